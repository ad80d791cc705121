import { describe, expect, it } from 'vitest'
import { checkRetentionDays, expiresAt, firstKeptDay, isExpired } from '../../src/warehouse/retention.ts'

/*
 * The day arithmetic of partition expiration against a reference written another way: calendar
 * fields and Date.UTC's own day overflow instead of epoch-day division. BigQuery's rule: day D
 * expires at D 00:00 UTC + N days.
 */

const DAY = 86_400_000

function ymd(dt: string): [number, number, number] {
  const [y, m, d] = dt.split('-').map(Number)
  return [y!, m! - 1, d!]
}

function fmt(ms: number): string {
  const t = new Date(ms)
  return `${String(t.getUTCFullYear()).padStart(4, '0')}-${String(t.getUTCMonth() + 1).padStart(2, '0')}-${String(t.getUTCDate()).padStart(2, '0')}`
}

/** Day D (as calendar fields, day may overflow) has expired at `now`: Date.UTC(y, m, d + n) is D's midnight n days on. */
function refExpiredYmd(y: number, m: number, d: number, now: number, n: number): boolean {
  return Date.UTC(y, m, d + n) <= now
}

function refExpired(dt: string, now: number, n: number): boolean {
  const [y, m, d] = ymd(dt)
  return refExpiredYmd(y, m, d, now, n)
}

/** Walks back from today's calendar date while the day before is still kept. */
function refFirstKept(now: number, n: number): string {
  const t = new Date(now)
  const [y, m, d] = [t.getUTCFullYear(), t.getUTCMonth(), t.getUTCDate()]
  let back = 0
  while (!refExpiredYmd(y, m, d - back - 1, now, n)) back++
  return fmt(Date.UTC(y, m, d - back))
}

/** A small deterministic generator of times (no dependence on the clock of the run). */
function times(count: number, seed: number): number[] {
  let s = seed
  const from = Date.UTC(1990, 0, 1)
  const to = Date.UTC(2100, 0, 1)
  const out: number[] = []
  for (let i = 0; i < count; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0
    const hi = s
    s = (Math.imul(s, 1103515245) + 12345) >>> 0
    out.push(from + Math.floor(((hi * 2 ** 32 + s) / 2 ** 64) * (to - from)))
  }
  return out
}

/** Midnights where calendars are awkward (leap days, year ends, month ends), each ±1 ms and the day's last ms. */
const MIDNIGHTS = ['2026-11-05', '2024-02-29', '2024-03-01', '2023-03-01', '2026-01-01', '2000-02-29', '2000-03-01', '1999-12-31', '2100-01-01'].map((dt) => Date.parse(`${dt}T00:00:00Z`))
const BOUNDARIES = MIDNIGHTS.flatMap((m) => [m - 1, m, m + 1, m + DAY - 1])
const DAYS = [1, 2, 3, 7, 31, 366, 3650]

describe('partition expiration days (BigQuery partition_expiration_days)', () => {
  it('the example of seed 004: 3 days at 2026-11-05T10:00Z keep 11-03, 11-04 and 11-05', () => {
    const now = Date.parse('2026-11-05T10:00:00Z')
    expect(firstKeptDay(now, 3)).toBe('2026-11-03')
    expect(isExpired('2026-11-02', now, 3)).toBe(true)
    expect(isExpired('2026-11-03', now, 3)).toBe(false)
    expect(expiresAt('2026-11-02', 3)).toBe(Date.parse('2026-11-05T00:00:00Z'))
  })

  it('a day expires at the very millisecond its midnight plus N days comes, not a millisecond before', () => {
    const midnight = Date.parse('2026-11-05T00:00:00Z')
    expect(isExpired('2026-11-02', midnight - 1, 3)).toBe(false)
    expect(firstKeptDay(midnight - 1, 3)).toBe('2026-11-02')
    expect(isExpired('2026-11-02', midnight, 3)).toBe(true)
    expect(firstKeptDay(midnight, 3)).toBe('2026-11-03')
    expect(firstKeptDay(midnight + 1, 3)).toBe('2026-11-03')
    // One day keeps today only: yesterday goes at midnight.
    expect(firstKeptDay(midnight - 1, 1)).toBe('2026-11-04')
    expect(firstKeptDay(midnight, 1)).toBe('2026-11-05')
    expect(isExpired('2026-11-04', midnight, 1)).toBe(true)
    expect(isExpired('2026-11-05', midnight + DAY - 1, 1)).toBe(false)
  })

  it('refuses 0, negative, fractional and non-finite days', () => {
    for (const bad of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => checkRetentionDays(bad)).toThrow(RangeError)
      expect(() => firstKeptDay(Date.now(), bad)).toThrow(RangeError)
      expect(() => isExpired('2026-11-05', Date.now(), bad)).toThrow(RangeError)
    }
    expect(() => isExpired('2026-13-01', Date.now(), 3)).toThrow(RangeError)
  })

  it('agrees with the reference on generated times and on day boundaries, keeping exactly N days', () => {
    const all = [...times(3_000, 12_345), ...BOUNDARIES]
    let checked = 0
    for (const n of DAYS) {
      for (const now of all) {
        const kept = firstKeptDay(now, n)
        expect(kept, `firstKeptDay(${new Date(now).toISOString()}, ${n})`).toBe(refFirstKept(now, n))
        // The day before the first kept one has expired, the first kept one has not, on both sides.
        const before = fmt(Date.parse(`${kept}T00:00:00Z`) - DAY)
        expect(isExpired(before, now, n)).toBe(true)
        expect(refExpired(before, now, n)).toBe(true)
        expect(isExpired(kept, now, n)).toBe(false)
        expect(refExpired(kept, now, n)).toBe(false)
        // Today is kept and the kept days, today included, are exactly N.
        const today = fmt(now)
        expect(isExpired(today, now, n)).toBe(false)
        expect(Math.round((Date.parse(`${today}T00:00:00Z`) - Date.parse(`${kept}T00:00:00Z`)) / DAY) + 1).toBe(n)
        checked++
      }
    }
    expect(checked).toBe(all.length * DAYS.length)
  })

  it('isExpired agrees with the reference for days around now', () => {
    for (const now of [...times(300, 99), ...BOUNDARIES]) {
      for (const n of [1, 3, 7]) {
        for (let k = -2; k <= n + 2; k++) {
          const dt = fmt(now - k * DAY)
          expect(isExpired(dt, now, n), `${dt} at ${new Date(now).toISOString()}, ${n} days`).toBe(refExpired(dt, now, n))
          expect(dt < firstKeptDay(now, n)).toBe(refExpired(dt, now, n))
        }
      }
    }
  })
})
