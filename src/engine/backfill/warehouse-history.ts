import { EVENTS_SINK_GROUP } from '../../warehouse/layout.ts'
import { DuckDBInstance } from '@duckdb/node-api'
import { TOPICS, type EventLog } from '../../log/event-log.ts'
import type { EngineOptions } from '../engine-options.ts'
import type { EngineRules } from '../engine-rules.ts'
import { liveParts } from '../../warehouse/layout.ts'
import { listPartFiles, type PartFile } from '../../warehouse/sink/files.ts'
import { aggregateRowsSql } from '../../warehouse/backfill/rule-sql.ts'
import { aggregateNodes } from './aggregate-nodes.ts'
import type { BackfillJob, BackfillProgress, HistorySource, RowVisitor } from './backfill-job.ts'

/** The warehouse sink's consumer group: its committed offset says what the warehouse holds. */
/** DuckDB's memory for a backfill's queries; it spills beyond, under the warehouse directory. */
const MEMORY_LIMIT = '512MB'

/**
 * History from the warehouse: the tenant's rows of this partition that the sink has committed
 * (offsets below its committed offset and the cut), read by DuckDB from the partition's live Parquet
 * files of the aggregates' events. Each aggregate is one query, with the conditions of `tagstream
 * warehouse backfill` (src/warehouse/backfill/rule-sql.ts): its event, its window as of the job's
 * time, its filter, and only values the engine would take. DuckDB hands over the rows; the engine's
 * own aggregates add them up.
 */
export class WarehouseHistory implements HistorySource {
  readonly name = 'warehouse'

  constructor(
    private readonly root: string,
    private readonly log: EventLog,
    private readonly options: EngineOptions,
  ) {}

  async read(job: BackfillJob, rules: EngineRules, from: number, visit: RowVisitor, progress: BackfillProgress): Promise<number> {
    const committed = (await this.log.committed(EVENTS_SINK_GROUP, TOPICS.events, job.partition)) ?? 0
    const upTo = Math.min(committed, job.cut)
    if (upTo <= from) return from
    const nodes = aggregateNodes(rules.definition)
    const { parts } = await listPartFiles(this.root)
    const db = await DuckDBInstance.create(':memory:', { memory_limit: MEMORY_LIMIT })
    const conn = await db.connect()
    try {
      for (const i of job.metrics) {
        const m = rules.metrics[i]!
        const node = nodes.get(m.spec.key)
        if (node === undefined) throw new Error(`no expression for aggregate ${m.spec.key}`)
        const files = filesOf(parts, job.partition, m.spec.event, from, upTo)
        if (files.length === 0) continue
        const q = aggregateRowsSql(node, job.at, this.options, rules.definition.traits ?? [])
        const list = `[${files.map((f) => quote(f.path)).join(', ')}]`
        const sql =
          `SELECT user_id, epoch_ms(ts)::DOUBLE AS t${q.value === null ? '' : `, ${q.value} AS v`}${q.type === null ? '' : `, ${q.type} AS ty`} ` +
          `FROM read_parquet(${list}, union_by_name = true) ` +
          `WHERE tenant = ${quote(job.tenant)} AND "offset" >= ${from} AND "offset" < ${upTo} AND epoch_ms(ts) <= ${job.at} AND ${q.where} ` +
          // Grouped by user: the fill looks each user up once (measured: 12.5 s unordered, 7 s ordered, 7M rows).
          'ORDER BY user_id'
        const result = await conn.stream(sql)
        for (;;) {
          const chunk = await result.fetchChunk()
          if (!chunk || chunk.rowCount === 0) break
          // Item by item from the vectors: no array of a chunk's values per column (measured: 0.6 s less for 7M rows).
          const users = chunk.getColumnVector(0)
          const times = chunk.getColumnVector(1)
          const values = q.value === null ? null : chunk.getColumnVector(2)
          const types = q.type === null ? null : chunk.getColumnVector(3)
          for (let r = 0; r < chunk.rowCount; r++) {
            const v = values === null ? undefined : types === null ? values.getItem(r) : distinctValue(values.getItem(r), types.getItem(r))
            visit(String(users.getItem(r)), i, Number(times.getItem(r)), v)
          }
          progress.rows.warehouse += chunk.rowCount
        }
      }
    } finally {
      conn.closeSync()
      db.closeSync()
    }
    progress.warehouseUpTo = upTo
    return upTo
  }
}

/** The live files of one partition and event that hold offsets in [from, upTo). */
function filesOf(parts: readonly PartFile[], partition: number, event: string, from: number, upTo: number): PartFile[] {
  const byDir = new Map<string, PartFile[]>()
  for (const f of parts) {
    if (f.partition !== partition || f.event !== event || f.last < from || f.first >= upTo) continue
    byDir.set(f.dir, [...(byDir.get(f.dir) ?? []), f])
  }
  // A compacted file supersedes the files inside its range, per directory (layout.ts, liveParts).
  return [...byDir.values()].flatMap((files) => liveParts(files))
}

/** A distinct value as the engine reads it from an event: a JSON number, string or boolean. */
function distinctValue(text: unknown, type: unknown): unknown {
  if (typeof text !== 'string') return null
  if (type === 'VARCHAR' || type === 'BOOLEAN') return JSON.parse(text) as unknown
  return Number(text)
}

function quote(s: string): string {
  return `'${s.replaceAll("'", "''")}'`
}
