import { writeFileSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api'
import { ident, literal } from './sql.ts'

/** Longest NDJSON line DuckDB accepts: far above any record the engine writes. */
const MAX_LINE_BYTES = 64 * 1024 * 1024

/**
 * DuckDB for the Parquet the sink does not encode itself: the output streams' files (from NDJSON),
 * compaction and trimming (Parquet to Parquet, with DuckDB's defaults: snappy and dictionaries).
 * Event files are encoded in JavaScript (./event-rows.ts).
 */
export class ParquetWriter {
  /** Statements run one at a time: flushes of several partitions may be in flight at once. */
  private queue: Promise<unknown> = Promise.resolve()

  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly connection: DuckDBConnection,
  ) {}

  static async open(options: { threads?: number } = {}): Promise<ParquetWriter> {
    const config: Record<string, string> = {}
    if (options.threads !== undefined) config.threads = String(options.threads)
    const instance = await DuckDBInstance.create(':memory:', config)
    const connection = await instance.connect()
    // Output streams' `at` becomes an instant (TIMESTAMP WITH TIME ZONE) from a UTC TIMESTAMP: exact only in UTC.
    await connection.run(`SET TimeZone = 'UTC'`)
    return new ParquetWriter(instance, connection)
  }

  /**
   * Writes one Parquet file from NDJSON records (an output stream's), staged at `jsonPath`: the
   * columns in order, `at` as a UTC instant (TIMESTAMP WITH TIME ZONE: Parquet's isAdjustedToUTC, as
   * the event files' ts), JSON columns as their text, then partition and offset.
   */
  writeJson(path: string, jsonPath: string, ndjson: Buffer, columns: ReadonlyArray<readonly [string, string]>, partition: number): Promise<void> {
    return this.exclusive(() => this.copyJson(path, jsonPath, ndjson, columns, partition))
  }

  private async copyJson(path: string, jsonPath: string, ndjson: Buffer, columns: ReadonlyArray<readonly [string, string]>, partition: number): Promise<void> {
    writeFileSync(jsonPath, ndjson)
    try {
      const decl = [`'_offset': 'BIGINT'`, ...columns.map(([name, type]) => `${literal(name)}: '${type}'`)]
      const select = [
        ...columns.map(([name, type]) =>
          name === 'at' ? 'CAST(epoch_ms(CAST("at" AS BIGINT)) AS TIMESTAMPTZ) AS "at"' : type === 'JSON' ? `CAST(${ident(name)} AS VARCHAR) AS ${ident(name)}` : ident(name),
        ),
        `CAST(${partition} AS INTEGER) AS "partition"`,
        '_offset AS "offset"',
      ]
      await this.connection.run(
        `COPY (SELECT ${select.join(', ')} FROM read_json(${literal(jsonPath)}, format = 'newline_delimited', maximum_object_size = ${MAX_LINE_BYTES}, columns = {${decl.join(', ')}}) ORDER BY "offset") TO ${literal(path)} (FORMAT parquet)`,
      )
    } finally {
      await rm(jsonPath, { force: true })
    }
  }

  /** A query's rows as JS values (the column types of existing files: ./column-types.ts). */
  rows(sql: string): Promise<unknown[][]> {
    return this.exclusive(async () => (await this.connection.runAndReadAll(sql)).getRowsJS() as unknown[][])
  }

  /** Runs a statement on the writer's connection (compaction reuses it). */
  run(sql: string): Promise<void> {
    return this.exclusive(async () => {
      await this.connection.run(sql)
    })
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn)
    this.queue = run.catch(() => undefined)
    return run
  }

  close(): void {
    this.connection.closeSync()
    this.instance.closeSync()
  }
}
