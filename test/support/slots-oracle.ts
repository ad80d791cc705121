import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api'

/**
 * An oracle for seed 000's rule, `count(spin, 2h) >= 200 and sum(in_app_purchase.amount, 2h) > 10`,
 * written by hand in SQL so it shares no code with the rule compiler or the engine it checks.
 *
 * Window semantics (the engine's): bucket size b = window / 120, bucket(t) = floor(t / b); the window
 * at time T holds events with ts <= T and bucket(ts) > bucket(T) − 120.
 */
export interface OracleOptions {
  /** Minimum spin count (>=). Default 200. */
  spins?: number
  /** Purchase amount the sum must exceed (>). Default 10. */
  amount?: number
  /** Window length in ms. Default 2h. */
  windowMs?: number
}

export interface OracleResult {
  /** Member user ids, sorted as strings (code-point order, the same as Array#sort). */
  members: string[]
  /** Wall time of the one query, reading and parsing the file included; opening DuckDB is not. */
  ms: number
  sql: string
}

const BUCKETS = 120

/** Members at time `T` (epoch ms) of the rule over an NDJSON (optionally .gz) or Parquet file of raw slots events. */
export async function oracleMembers(path: string, T: number, opts: OracleOptions = {}): Promise<string[]> {
  return (await oracleMembersTimed(path, T, opts)).members
}

export async function oracleMembersTimed(path: string, T: number, opts: OracleOptions = {}): Promise<OracleResult> {
  const windowMs = opts.windowMs ?? 2 * 3_600_000
  if (!Number.isSafeInteger(T)) throw new RangeError(`T must be integer epoch ms, got ${T}`)
  if (!(windowMs > 0)) throw new RangeError(`windowMs must be positive, got ${windowMs}`)
  const instance = await DuckDBInstance.create(':memory:')
  const connection = await instance.connect()
  try {
    const sql = `
      WITH events AS (${await source(connection, path)}),
      windowed AS (
        SELECT user_id,
               count(*) FILTER (WHERE event = 'spin') AS spins,
               coalesce(sum(amount) FILTER (WHERE event = 'in_app_purchase'), 0) AS amount
        FROM events
        WHERE ts <= $t
          AND floor(ts / $bucket) > floor($t / $bucket) - ${BUCKETS}
        GROUP BY user_id
      )
      SELECT user_id FROM windowed
      WHERE spins >= $min_spins AND amount > $min_amount
      ORDER BY user_id`
    const params = { t: T, bucket: windowMs / BUCKETS, min_spins: opts.spins ?? 200, min_amount: opts.amount ?? 10 }
    const started = performance.now()
    const reader = await connection.runAndReadAll(sql, params)
    const ms = performance.now() - started
    return { members: reader.getRowsJS().map((row) => String(row[0])), ms, sql }
  } finally {
    connection.closeSync()
    instance.closeSync()
  }
}

/** A fixed schema, so a file that lacks a column (no purchases at all) still types the same. */
async function source(connection: DuckDBConnection, path: string): Promise<string> {
  const file = `'${path.replaceAll("'", "''")}'`
  if (!path.endsWith('.parquet')) {
    return `SELECT event, user_id, ts, amount FROM read_json(${file}, format = 'newline_delimited',
      columns = {event: 'VARCHAR', user_id: 'VARCHAR', ts: 'BIGINT', amount: 'DOUBLE'})`
  }
  // Parquet carries its own types: ts may be a timestamp, and amount may be missing.
  const described = await connection.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet(${file})`)
  const types = new Map(described.getRowsJS().map((row) => [String(row[0]), String(row[1])]))
  const ts = types.get('ts')?.startsWith('TIMESTAMP') ? 'epoch_ms(ts)' : 'ts::BIGINT'
  const amount = types.has('amount') ? 'amount::DOUBLE' : 'NULL::DOUBLE'
  return `SELECT event::VARCHAR AS event, user_id::VARCHAR AS user_id, ${ts} AS ts, ${amount} AS amount FROM read_parquet(${file})`
}
