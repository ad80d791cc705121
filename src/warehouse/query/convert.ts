import {
  DuckDBArrayValue,
  DuckDBBlobValue,
  DuckDBDateValue,
  DuckDBDecimalValue,
  DuckDBListValue,
  DuckDBMapValue,
  DuckDBStructValue,
  DuckDBTimestampMillisecondsValue,
  DuckDBTimestampNanosecondsValue,
  DuckDBTimestampSecondsValue,
  DuckDBTimestampTZValue,
  DuckDBTimestampValue,
  type DuckDBValue,
} from '@duckdb/node-api'

/** A value that survives JSON.stringify unchanged. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue }

/** Microseconds since the epoch → ISO-8601 (millisecond precision, UTC); out-of-range stays DuckDB's text. */
function isoFromMicros(micros: bigint, fallback: string): string {
  const ms = Number(micros / 1000n)
  const d = new Date(ms)
  return Number.isNaN(d.getTime()) ? fallback : d.toISOString()
}

/**
 * DuckDB value → JSON-safe value. BIGINT/HUGEINT → number when it is a safe integer, else its
 * decimal text (so no precision is lost silently); timestamps → ISO strings; DECIMAL → number;
 * DATE → 'YYYY-MM-DD'; nested lists/structs/maps recursively; anything else → DuckDB's text form.
 */
export function toJson(v: DuckDBValue): JsonValue {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return v
  if (typeof v === 'number') return Number.isFinite(v) ? v : String(v)
  if (typeof v === 'bigint') return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString()
  if (v instanceof DuckDBTimestampValue || v instanceof DuckDBTimestampTZValue) return isoFromMicros(v.micros, v.toString())
  if (v instanceof DuckDBTimestampMillisecondsValue) return isoFromMicros(v.millis * 1000n, v.toString())
  if (v instanceof DuckDBTimestampSecondsValue) return isoFromMicros(v.seconds * 1_000_000n, v.toString())
  if (v instanceof DuckDBTimestampNanosecondsValue) return isoFromMicros(v.nanos / 1000n, v.toString())
  if (v instanceof DuckDBDecimalValue) return v.toDouble()
  if (v instanceof DuckDBDateValue) return v.toString()
  if (v instanceof DuckDBListValue || v instanceof DuckDBArrayValue) return v.items.map(toJson)
  if (v instanceof DuckDBStructValue) {
    const out: { [key: string]: JsonValue } = {}
    for (const [k, x] of Object.entries(v.entries)) out[k] = toJson(x)
    return out
  }
  if (v instanceof DuckDBMapValue) return v.entries.map((e) => ({ key: toJson(e.key), value: toJson(e.value) }))
  if (v instanceof DuckDBBlobValue) return Buffer.from(v.bytes).toString('base64')
  return String(v)
}
