import { mkdirSync, readdirSync, rmSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { compress as zstdCompress, init as zstdInit } from '@bokuweb/zstd-wasm'
import { BIGINT, DOUBLE, DuckDBDataChunk, DuckDBInstance, INTEGER, VARCHAR, type DuckDBValue } from '@duckdb/node-api'
import { decodeEvent } from '../src/events/index.ts'
import { TOPICS } from '../src/log/event-log.ts'
import { openEventLog } from '../src/log/open-log.ts'
import { batchValue, readRecordBatch } from '../src/log/read-batch.ts'
import { literal } from '../src/warehouse/sink/sql.ts'
import { EVENT_FILE_ENCODING } from '../src/warehouse/sink/event-file.ts'
import { SNAPPY, UNCOMPRESSED, type PageCodec } from '../src/warehouse/sink/parquet-encode.ts'
import { eventsTopic, runSinkOnce } from '../src/warehouse/sink/index.ts'
import type { Figure } from './report.ts'

/*
 * How the sink's event files should be encoded, measured in one run over the same log
 * (docs/warehouse-sink.md, "How rows become Parquet"):
 * - the sink end to end (read, encode, write, fsync, commit) with pages uncompressed (the format
 *   before), SNAPPY, or ZSTD (level 1, through a wasm build of the reference library: Node 20's
 *   zlib has none), in interleaved rounds, median rows/s, and the bytes per row of the files;
 * - DuckDB's own writer on the same rows (each fresh file rewritten by COPY with DuckDB's
 *   defaults: snappy and dictionaries), the size to be within 1.5× of;
 * - DuckDB as the encoder instead of ours: the same records decoded, handed over with its columnar
 *   appender (appendDataChunk, 2,048 rows a chunk) and written by COPY … PARTITION_BY into the same
 *   layout. That path is given its best case (no fsync, no commit, one COPY for everything, both
 *   cores), so ours must beat it by a clear margin to be worth keeping.
 */

const ROUNDS = Number(process.env.BENCH_ENCODING_ROUNDS ?? 3)

/** ZSTD pages (parquet.thrift CompressionCodec 6) through the wasm build; for the comparison only. */
function zstd(level: number): PageCodec {
  return {
    name: `zstd level ${level}`,
    id: 6,
    // Above ZSTD_compressBound(n) = n + n/256 + at most 64.
    maxLength: (n) => n + (n >> 7) + 512,
    compress(pieces, out, at) {
      const packed = zstdCompress(pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces), level)
      out.set(packed, at)
      return at + packed.length
    },
  }
}

function parquetBytes(dir: string): number {
  let total = 0
  for (const d of readdirSync(dir, { withFileTypes: true, recursive: true })) if (d.isFile() && d.name.endsWith('.parquet')) total += statSync(join(d.parentPath, d.name)).size
  return total
}

function parquetFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((d) => d.isFile() && d.name.endsWith('.parquet'))
    .map((d) => join(d.parentPath, d.name))
}

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

/** Figures for the section; `logDir` holds the events log the sink bench wrote (8 partitions). */
export async function benchSinkEncodings(logDir: string, workDir: string): Promise<Figure[]> {
  await zstdInit()
  const variants = [
    { name: 'uncompressed, PLAIN (the format before)', codec: UNCOMPRESSED, dictionaries: false },
    { name: 'snappy, constant columns as dictionaries (chosen)', codec: SNAPPY, dictionaries: true },
    { name: 'zstd level 1, constant columns as dictionaries', codec: zstd(1), dictionaries: true },
  ]
  const rates = variants.map((): number[] => [])
  const cpus = variants.map((): number[] => [])
  const bytes = variants.map(() => 0)
  let rows = 0
  // The chosen encoding's warehouse of the last round is kept for DuckDB to rewrite.
  const chosen = join(workDir, 'encoding-1')
  const saved = { ...EVENT_FILE_ENCODING }
  try {
    for (let round = 0; round < ROUNDS; round++) {
      for (const [i, v] of variants.entries()) {
        EVENT_FILE_ENCODING.codec = v.codec
        EVENT_FILE_ENCODING.dictionaries = v.dictionaries
        const { log } = await openEventLog(logDir)
        const root = join(workDir, `encoding-${i}`)
        ;(globalThis as { gc?: () => void }).gc?.()
        const cpu0 = process.cpuUsage()
        // A group of its own: every run reads the whole log.
        const r = await runSinkOnce(log, root, { topic: eventsTopic(), group: `bench-encoding-${round}-${i}` })
        const cpu = process.cpuUsage(cpu0)
        await log.close()
        rows = r.rowsWritten
        rates[i]!.push(r.rowsWritten / (r.ms / 1000))
        cpus[i]!.push((cpu.user + cpu.system) / 1e6 / (r.rowsWritten / 1e6))
        bytes[i] = parquetBytes(root)
        if (root !== chosen || round < ROUNDS - 1) rmSync(root, { recursive: true, force: true })
      }
    }
  } finally {
    Object.assign(EVENT_FILE_ENCODING, saved)
  }

  const figures: Figure[] = []
  for (const [i, v] of variants.entries()) {
    figures.push({ name: `sink, ${v.name}`, value: median(rates[i]!), unit: 'rows/s', target: '≥ 1,000,000 rows/s', met: median(rates[i]!) >= 1_000_000, notes: `median of ${ROUNDS}, interleaved` })
    figures.push({ name: `sink, ${v.name}: CPU time per million rows`, value: median(cpus[i]!), unit: 's' })
    figures.push({ name: `fresh files, ${v.name}`, value: bytes[i]! / rows, unit: 'bytes/row' })
  }

  // DuckDB's writer on the same rows: every fresh file of the chosen encoding, rewritten.
  const db = await DuckDBInstance.create(':memory:')
  const c = await db.connect()
  try {
    for (const codec of ['snappy', 'zstd']) {
      const out = join(workDir, `duckdb-${codec}`)
      mkdirSync(out, { recursive: true })
      for (const [k, f] of parquetFiles(chosen).entries()) {
        await c.run(
          `COPY (SELECT * FROM read_parquet(${literal(f)}, hive_partitioning = false)) TO ${literal(join(out, `${k}.parquet`))} (FORMAT parquet${codec === 'zstd' ? ', COMPRESSION zstd' : ''})`,
        )
      }
      const perRow = parquetBytes(out) / rows
      const snappy = bytes[1]! / rows
      figures.push({
        name: `DuckDB's writer on the same files, ${codec === 'snappy' ? 'its defaults (snappy, dictionaries)' : 'zstd'}`,
        value: perRow,
        unit: 'bytes/row',
        ...(codec === 'snappy' ? { target: 'chosen encoding ≤ 1.5× this', met: snappy <= 1.5 * perRow, notes: `chosen: ${(snappy / perRow).toFixed(2)}×` } : {}),
      })
      rmSync(out, { recursive: true, force: true })
    }
  } finally {
    c.closeSync()
    db.closeSync()
  }
  rmSync(chosen, { recursive: true, force: true })

  const duck = await duckdbAppender(logDir, join(workDir, 'duckdb-appender'))
  const ours = median(rates[1]!)
  figures.push({
    name: 'DuckDB as the encoder: decode, appendDataChunk, COPY … PARTITION_BY (no fsync, no commit)',
    value: duck.rate,
    unit: 'rows/s',
    target: 'ours clearly faster',
    met: ours >= 1.5 * duck.rate,
    notes: `ours (snappy): ${(ours / duck.rate).toFixed(1)}×; ${duck.bytesPerRow.toFixed(1)} bytes/row`,
  })
  figures.push({ name: 'DuckDB as the encoder: CPU time per million rows', value: duck.cpuPerMillion, unit: 's' })
  return figures
}

/**
 * The same events through DuckDB: the log read as the sink reads it, each record decoded, values
 * set column by column into DataChunks of 2,048 rows and appended; then one COPY writes the
 * (day, event, partition) files. Times and property columns as the sink declares them.
 */
async function duckdbAppender(logDir: string, out: string): Promise<{ rate: number; cpuPerMillion: number; bytesPerRow: number }> {
  const { log, partitions } = await openEventLog(logDir)
  const db = await DuckDBInstance.create(':memory:')
  const c = await db.connect()
  try {
    ;(globalThis as { gc?: () => void }).gc?.()
    const cpu0 = process.cpuUsage()
    const started = performance.now()
    // The bench's events (bench/sample-events.ts): spin {bet}, in_app_purchase {amount, item}.
    const types = [VARCHAR, VARCHAR, VARCHAR, DOUBLE, VARCHAR, VARCHAR, DOUBLE, INTEGER, BIGINT, VARCHAR, DOUBLE, DOUBLE, VARCHAR]
    await c.run(`CREATE TABLE ev (event VARCHAR, user_id VARCHAR, anonymous_id VARCHAR, ts_ms DOUBLE, event_id VARCHAR, tenant VARCHAR, received_ms DOUBLE,
      "partition" INTEGER, "offset" BIGINT, properties VARCHAR, bet DOUBLE, amount DOUBLE, item VARCHAR)`)
    const appender = await c.createAppender('ev')
    const CHUNK = 2048
    const chunk = DuckDBDataChunk.create(types, CHUNK)
    const cols: DuckDBValue[][] = types.map(() => new Array<DuckDBValue>(CHUNK))
    let n = 0
    let rows = 0
    const flush = (): void => {
      if (n === 0) return
      // The last chunk of a partition is shorter; the next one grows back to CHUNK.
      chunk.rowCount = n
      for (const col of cols) col.length = n
      chunk.setColumns(cols)
      appender.appendDataChunk(chunk)
      rows += n
      n = 0
    }
    for (let p = 0; p < partitions; p++) {
      const end = (await log.offsets(TOPICS.events, p)).end
      for (let offset = (await log.offsets(TOPICS.events, p)).start; offset < end;) {
        const batch = await readRecordBatch(log, TOPICS.events, p, offset, { maxRecords: 10_000 })
        if (batch.count === 0) break
        for (let i = 0; i < batch.count; i++) {
          const e = decodeEvent(batchValue(batch, i))
          const props = e.properties
          const row = [
            e.event,
            e.user_id,
            e.anonymous_id ?? null,
            e.ts,
            e.event_id,
            e.tenant,
            e.received_at,
            p,
            BigInt(batch.offsets[i]!),
            JSON.stringify(props),
            typeof props.bet === 'number' ? props.bet : null,
            typeof props.amount === 'number' ? props.amount : null,
            typeof props.item === 'string' ? props.item : null,
          ]
          for (let k = 0; k < row.length; k++) cols[k]![n] = row[k]!
          if (++n === CHUNK) flush()
        }
        offset = batch.offsets[batch.count - 1]! + 1
      }
      flush()
    }
    appender.closeSync()
    await c.run(`COPY (SELECT event, user_id, anonymous_id, make_timestamptz(CAST(ts_ms * 1000 AS BIGINT)) AS ts, event_id, tenant,
        make_timestamptz(CAST(received_ms * 1000 AS BIGINT)) AS received_at, "partition", "offset", properties, bet, amount, item,
        CAST(epoch_ms(CAST(ts_ms AS BIGINT)) AS DATE) AS dt
      FROM ev ORDER BY "partition", "offset") TO ${literal(out)} (FORMAT parquet, PARTITION_BY (dt, event, "partition"), OVERWRITE_OR_IGNORE)`)
    const ms = performance.now() - started
    const cpu = process.cpuUsage(cpu0)
    const result = { rate: rows / (ms / 1000), cpuPerMillion: (cpu.user + cpu.system) / 1e6 / (rows / 1e6), bytesPerRow: parquetBytes(out) / rows }
    rmSync(out, { recursive: true, force: true })
    return result
  } finally {
    c.closeSync()
    db.closeSync()
    await log.close()
  }
}
