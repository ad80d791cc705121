import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api'
import { BASE_COLUMNS } from '../layout.ts'
import { buildFileSchema, ident, literal, type SinkRow } from './schema.ts'

export interface WrittenFile {
  rows: number
  /** Property columns whose rows disagreed on the type. */
  conflicts: string[]
}

const TABLE = 'sink_rows'

/**
 * Writes rows to Parquet through DuckDB: the rows go into a temp table with the appender (times as
 * epoch-ms doubles, which append fastest), then one COPY (SELECT …) converts the types and writes the
 * file. Event and partition are the same for every row of a file, so they are SQL constants rather
 * than appended values.
 */
export class ParquetWriter {
  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly connection: DuckDBConnection,
  ) {}

  static async open(options: { threads?: number } = {}): Promise<ParquetWriter> {
    const config: Record<string, string> = {}
    if (options.threads !== undefined) config.threads = String(options.threads)
    const instance = await DuckDBInstance.create(':memory:', config)
    return new ParquetWriter(instance, await instance.connect())
  }

  /** Writes one file of rows that share `event` and `partition`, in the given order. */
  async write(path: string, event: string, partition: number, rows: readonly SinkRow[]): Promise<WrittenFile> {
    const schema = buildFileSchema(rows)
    const props = schema.columns
    const decl = [
      'user_id VARCHAR',
      'anonymous_id VARCHAR',
      'ts DOUBLE',
      'event_id VARCHAR',
      'tenant VARCHAR',
      'received_at DOUBLE',
      '"offset" DOUBLE',
      'properties VARCHAR',
      ...props.map((c, i) => `c${i} ${c.type}`),
    ]
    const c = this.connection
    await c.run(`CREATE OR REPLACE TEMP TABLE ${TABLE} (${decl.join(', ')})`)
    const a = await c.createAppender(TABLE)
    try {
      for (let r = 0; r < rows.length; r++) {
        const { event: e, offset } = rows[r]!
        a.appendVarchar(e.user_id)
        if (e.anonymous_id === undefined) a.appendNull()
        else a.appendVarchar(e.anonymous_id)
        a.appendDouble(e.ts)
        a.appendVarchar(e.event_id)
        a.appendVarchar(e.tenant)
        a.appendDouble(e.received_at)
        a.appendDouble(offset)
        a.appendVarchar(JSON.stringify(e.properties))
        const vals = schema.values[r]!
        for (let i = 0; i < props.length; i++) {
          const v = vals[i]
          if (v === undefined) a.appendNull()
          else if (typeof v === 'number') a.appendDouble(v)
          else if (typeof v === 'string') a.appendVarchar(v)
          else a.appendBoolean(v)
        }
        a.endRow()
      }
      a.flushSync()
    } finally {
      a.closeSync()
    }
    const select = [
      `${literal(event)} AS event`,
      'user_id',
      'anonymous_id',
      'epoch_ms(CAST(ts AS BIGINT)) AS ts',
      'event_id',
      'tenant',
      'epoch_ms(CAST(received_at AS BIGINT)) AS received_at',
      `CAST(${partition} AS INTEGER) AS "partition"`,
      'CAST("offset" AS BIGINT) AS "offset"',
      'properties',
      ...props.map((col, i) => `c${i} AS ${ident(col.name)}`),
    ]
    if (select.length !== BASE_COLUMNS.length + props.length) throw new Error('column list out of step with BASE_COLUMNS')
    await c.run(`COPY (SELECT ${select.join(', ')} FROM ${TABLE}) TO ${literal(path)} (FORMAT parquet)`)
    await c.run(`DROP TABLE ${TABLE}`)
    return { rows: rows.length, conflicts: schema.conflicts }
  }

  /** Runs a statement on the writer's connection (compaction reuses it). */
  async run(sql: string): Promise<void> {
    await this.connection.run(sql)
  }

  close(): void {
    this.connection.closeSync()
    this.instance.closeSync()
  }
}
