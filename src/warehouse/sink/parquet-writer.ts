import { writeFileSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api'
import { BASE_COLUMNS } from '../layout.ts'
import { CSV_BASE_COLUMNS, type CsvGroup } from './csv-rows.ts'
import { ident, literal } from './sql.ts'

/**
 * Fresh part files skip dictionary pages: building dictionaries for columns like event_id that
 * never repeat costs about a third of DuckDB's write time, and snappy still compresses repeated
 * strings (files ~10 % larger). Compaction rewrites finished days with DuckDB's defaults, so the
 * daily files get dictionaries back.
 */
const FRESH_FILE_OPTIONS = 'FORMAT parquet, DICTIONARY_SIZE_LIMIT 1'

/** Longest CSV line DuckDB accepts: far above any event the collector admits. */
const MAX_LINE_BYTES = 64 * 1024 * 1024

/**
 * Writes part files through DuckDB: a file's rows arrive as CSV (./csv-rows.ts), and one
 * COPY (SELECT … FROM read_csv(…)) parses them on every core, converts the types and writes the
 * Parquet file. Event and partition are the same for every row of a file, so they are SQL constants.
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

  /** Writes one Parquet file from a group's CSV, staged at `csvPath` (removed afterwards). */
  async write(path: string, csvPath: string, group: CsvGroup, partition: number): Promise<void> {
    // Written synchronously (into the page cache): the COPY below is submitted before write() first
    // yields, so a caller can build the next file while DuckDB works on this one.
    writeFileSync(csvPath, group.csv)
    try {
      const columns = [...CSV_BASE_COLUMNS.map(([name, type]) => `${literal(name)}: '${type}'`), ...group.columns.map((c, i) => `'c${i}': '${c.type}'`)]
      const source =
        `read_csv(${literal(csvPath)}, header = false, auto_detect = false, delim = ',', quote = '"', escape = '"', new_line = '\\n', ` +
        `allow_quoted_nulls = false, null_padding = true, max_line_size = ${MAX_LINE_BYTES}, columns = {${columns.join(', ')}})`
      const select = [
        `${literal(group.event)} AS event`,
        'user_id',
        'anonymous_id',
        'epoch_ms(CAST(ts AS BIGINT)) AS ts',
        'event_id',
        'tenant',
        'epoch_ms(CAST(received_at AS BIGINT)) AS received_at',
        `CAST(${partition} AS INTEGER) AS "partition"`,
        '"offset"',
        'properties',
        ...group.columns.map((col, i) => `c${i} AS ${ident(col.name)}`),
      ]
      if (select.length !== BASE_COLUMNS.length + group.columns.length) throw new Error('column list out of step with BASE_COLUMNS')
      await this.connection.run(`COPY (SELECT ${select.join(', ')} FROM ${source}) TO ${literal(path)} (${FRESH_FILE_OPTIONS})`)
    } finally {
      await rm(csvPath, { force: true })
    }
  }

  /**
   * Writes one Parquet file from NDJSON records (an output stream's), staged at `jsonPath`: the
   * columns in order, `at` as a TIMESTAMP, JSON columns as their text, then partition and offset.
   */
  async writeJson(path: string, jsonPath: string, ndjson: Buffer, columns: ReadonlyArray<readonly [string, string]>, partition: number): Promise<void> {
    writeFileSync(jsonPath, ndjson)
    try {
      const decl = [`'_offset': 'BIGINT'`, ...columns.map(([name, type]) => `${literal(name)}: '${type}'`)]
      const select = [
        ...columns.map(([name, type]) =>
          name === 'at' ? 'epoch_ms(CAST("at" AS BIGINT)) AS "at"' : type === 'JSON' ? `CAST(${ident(name)} AS VARCHAR) AS ${ident(name)}` : ident(name),
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

  /** Runs a statement on the writer's connection (compaction reuses it). */
  async run(sql: string): Promise<void> {
    await this.connection.run(sql)
  }

  close(): void {
    this.connection.closeSync()
    this.instance.closeSync()
  }
}
