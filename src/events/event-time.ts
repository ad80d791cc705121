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
  const fast = canonicalUtc(value)
  if (fast >= MIN_EVENT_TIME) return { ok: true, ms: fast }
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

/** Digit at position i of s as a number, or a negative number when it is not an ASCII digit. */
function digit(s: string, i: number): number {
  return s.charCodeAt(i) - 48
}

function two(s: string, i: number): number {
  const a = digit(s, i)
  const b = digit(s, i + 1)
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1
}

const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]

/**
 * The form almost every client sends, `YYYY-MM-DDTHH:MM:SS.sssZ` (JavaScript's toISOString, Segment's
 * SDKs), read without the regular expression: its epoch ms, or −1 for any other string (which the
 * general parser then reads, and words the error for). Same result as the general parser on this form.
 */
function canonicalUtc(s: string): number {
  if (
    s.length !== 24 ||
    s.charCodeAt(4) !== 45 ||
    s.charCodeAt(7) !== 45 ||
    s.charCodeAt(10) !== 84 ||
    s.charCodeAt(13) !== 58 ||
    s.charCodeAt(16) !== 58 ||
    s.charCodeAt(19) !== 46 ||
    s.charCodeAt(23) !== 90
  )
    return -1
  const hi = two(s, 0)
  const lo = two(s, 2)
  const mo = two(s, 5)
  const d = two(s, 8)
  const h = two(s, 11)
  const mi = two(s, 14)
  const sec = two(s, 17)
  const ms1 = digit(s, 20)
  const ms2 = two(s, 21)
  if (hi < 0 || lo < 0 || mo < 1 || mo > 12 || d < 1 || h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 59 || ms1 < 0 || ms1 > 9 || ms2 < 0) return -1
  const y = hi * 100 + lo
  const leap = y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0)
  if (d > (mo === 2 && leap ? 29 : DAYS[mo - 1]!)) return -1
  return Date.UTC(y, mo - 1, d, h, mi, sec, ms1 * 100 + ms2)
}
