// A date-time with no offset is read as UTC, not local time: the result must not depend on the
// machine's time zone. " UTC" as a suffix and a space for "T" are accepted because seed 000 writes them.
const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?(Z| ?UTC|[+-]\d{2}:?\d{2})?$/

/** Earliest accepted event time, 2000-01-01: smaller epoch values are almost always seconds, not ms. */
export const MIN_EVENT_TIME = Date.UTC(2000, 0, 1)

export type TimeParse = { ok: true; ms: number } | { ok: false; reason: string }

export function parseEventTime(value: unknown): TimeParse {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return { ok: false, reason: 'must be a finite number of epoch milliseconds' }
    if (value < MIN_EVENT_TIME) {
      return value > 0 && value * 1000 >= MIN_EVENT_TIME
        ? { ok: false, reason: 'looks like epoch seconds; send epoch milliseconds or an ISO-8601 string' }
        : { ok: false, reason: 'must be after 2000-01-01T00:00:00Z' }
    }
    return { ok: true, ms: Math.floor(value) }
  }
  if (typeof value !== 'string') return { ok: false, reason: 'must be an ISO-8601 string or epoch milliseconds' }
  const m = ISO.exec(value)
  if (!m) return { ok: false, reason: `"${value.slice(0, 40)}" is not an ISO-8601 date-time` }
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '', zone = 'Z'] = m
  const ms = Number((frac + '000').slice(0, 3))
  let t = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), ms)
  const check = new Date(t)
  if (check.getUTCDate() !== Number(d) || check.getUTCMonth() !== Number(mo) - 1 || Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) {
    return { ok: false, reason: `"${value.slice(0, 40)}" is not a valid calendar date-time` }
  }
  if (zone !== 'Z' && !zone.endsWith('UTC')) {
    const sign = zone[0] === '-' ? -1 : 1
    const digits = zone.slice(1).replace(':', '')
    const hours = Number(digits.slice(0, 2))
    const minutes = Number(digits.slice(2, 4))
    // Real offsets run from −12:00 to +14:00; ISO 8601 allows up to ±23:59, RFC 3339 minutes < 60.
    if (hours > 23 || minutes > 59) return { ok: false, reason: `"${value.slice(0, 40)}" has an offset out of range (at most ±23:59)` }
    t -= sign * (hours * 60 + minutes) * 60_000
  }
  if (t < MIN_EVENT_TIME) return { ok: false, reason: 'must be after 2000-01-01T00:00:00Z' }
  return { ok: true, ms: t }
}
