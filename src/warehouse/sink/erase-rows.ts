import { join } from 'node:path'
import { CODEC } from '../../events/codec.ts'
import { decodeEraseRecord } from '../../events/erase-record.ts'
import type { RecordBatch } from '../../log/event-log.ts'
import type { Logger } from '../../logger.ts'
import { EVENTS_DIR, STREAM_DIRS, TMP_EXT } from '../layout.ts'
import { listPartFilesUnder, publish, removeFiles, type PartFile } from './files.ts'
import type { ParquetWriter } from './parquet-writer.ts'
import { literal } from './sql.ts'

/**
 * One person's rows to remove from the warehouse (docs/privacy.md, "Erase"): the tenant, the ids,
 * and per partition the log offset below which their rows are the erased person's. Rows at or past
 * it belong to a new profile of the same id (events after the erase record) and stay.
 */
export interface WarehouseErase {
  tenant: string
  ids: string[]
  /** Per events partition: the erase record's offset. */
  events: Record<string, number>
  /** Per output stream (segment-changes, notifications, identities), per partition: the stream's end when the engine applied the erase. */
  streams: Record<string, Record<string, number>>
}

export interface EraseRowsResult {
  filesRewritten: number
  filesRemoved: number
  rowsRemoved: number
}

/**
 * Rewrites every part file holding rows of the erase without them (a file left empty is removed).
 * Each file is replaced by an atomic rename, under the same name (the same offset range: what the
 * sink's recovery and compaction go by), so a crash leaves each file either as it was or rewritten,
 * and running it again finishes the job. Must run where no flush or merge runs at the same time:
 * the running sink calls it between its steps (./run.ts).
 */
export async function eraseRows(writer: ParquetWriter, root: string, erase: WarehouseErase, logger?: Logger): Promise<EraseRowsResult> {
  const total: EraseRowsResult = { filesRewritten: 0, filesRemoved: 0, rowsRemoved: 0 }
  const ids = erase.ids.map(literal).join(', ')
  const tenant = literal(erase.tenant)
  const dirs: Array<{ dir: string; cuts: Record<string, number>; who: string }> = [
    { dir: EVENTS_DIR, cuts: erase.events, who: `(user_id IN (${ids}) OR anonymous_id IN (${ids}))` },
    ...STREAM_DIRS.map((dir) => ({ dir, cuts: erase.streams[dir] ?? {}, who: dir === 'identities' ? `(user_id IN (${ids}) OR id IN (${ids}))` : `user_id IN (${ids})` })),
  ]
  for (const { dir, cuts, who } of dirs) {
    const { parts } = await listPartFilesUnder(join(root, dir))
    const files = parts.filter((f) => {
      const cut = cuts[String(f.partition)]
      return cut !== undefined && f.first < cut
    })
    if (files.length === 0) continue
    const match = (f: PartFile) => `tenant = ${tenant} AND ${who} AND "offset" < ${cuts[String(f.partition)]!}`
    // One scan over the files finds those with rows to remove (DuckDB reads only the columns named).
    const byPartition = Object.entries(cuts).map(([p, cut]) => `("partition" = ${Number(p)} AND "offset" < ${cut})`)
    const list = `[${files.map((f) => literal(f.path)).join(', ')}]`
    const hits = new Map<string, number>()
    const found = await writer.rows(
      `SELECT filename, count(*) FROM read_parquet(${list}, filename = true, union_by_name = true, hive_partitioning = false) WHERE tenant = ${tenant} AND ${who} AND (${byPartition.join(' OR ')}) GROUP BY filename`,
    )
    for (const [file, n] of found) hits.set(String(file), Number(n))
    // IS NOT TRUE, not NOT: a row with a NULL anonymous_id makes the match NULL, and NOT NULL would drop it.
    for (const f of files) {
      const n = hits.get(f.path)
      if (n === undefined) continue
      const left = Number((await writer.rows(`SELECT count(*) FROM read_parquet(${literal(f.path)}, hive_partitioning = false) WHERE (${match(f)}) IS NOT TRUE`))[0]![0])
      if (left === 0) {
        await removeFiles([f.path])
        total.filesRemoved++
      } else {
        const tmp = f.path + TMP_EXT
        await writer.run(`COPY (SELECT * FROM read_parquet(${literal(f.path)}, hive_partitioning = false) WHERE (${match(f)}) IS NOT TRUE ORDER BY "offset") TO ${literal(tmp)} (FORMAT parquet)`)
        await publish([{ tmp, path: f.path, dir: f.dir }])
        total.filesRewritten++
      }
      total.rowsRemoved += n
    }
  }
  logger?.info({ tenant: erase.tenant, ...total }, 'warehouse: erased rows rewritten')
  return total
}

/**
 * The erase records among an events partition's batches (docs/privacy.md): the sink removes the
 * person's rows below each before it commits past it, so a warehouse rebuilt from the log ends up
 * without them too. A record that does not decode is left to the engine (it dead-letters it).
 */
export function eraseRecordsIn(batches: readonly RecordBatch[], partition: number): WarehouseErase[] {
  const out: WarehouseErase[] = []
  for (const batch of batches) {
    for (let i = 0; i < batch.count; i++) {
      const chunk = batch.chunks[batch.chunkOf[i]!]!
      const start = batch.starts[i]!
      const end = batch.ends[i]!
      if (end <= start || chunk[start] !== CODEC.ERASE) continue
      const b = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
      const r = decodeEraseRecord(b, start, end)
      if ('job' in r) out.push({ tenant: r.tenant, ids: r.ids, events: { [String(partition)]: batch.offsets[i]! }, streams: {} })
    }
  }
  return out
}
