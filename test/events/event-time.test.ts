import { describe, expect, it } from 'vitest'
import { MIN_EVENT_TIME, parseEventTime } from '../../src/events/index.ts'

// parseEventTime reads `YYYY-MM-DDTHH:MM:SS.sssZ` (toISOString's form, what Segment's SDKs send)
// without its regular expression. Checked against an independent reference on generated strings:
// for this form a time is valid exactly when Date's own ISO printer gives the same string back.
function reference(v: string): number | null {
  const ms = Date.parse(v)
  return Number.isFinite(ms) && new Date(ms).toISOString() === v && ms >= MIN_EVENT_TIME ? ms : null
}

function rng(seed: number): () => number {
  let x = seed
  return () => {
    x = (x * 1103515245 + 12345) % 2 ** 31
    return x / 2 ** 31
  }
}

const pad = (n: number, w: number) => String(n).padStart(w, '0')

describe('parseEventTime on the canonical ISO form', () => {
  it('agrees with the reference on 50,000 generated strings, valid and not', () => {
    const r = rng(18)
    const pick = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1))
    const noise = '0123456789-:.TZ x'
    let valid = 0
    for (let i = 0; i < 50_000; i++) {
      let v = `${pad(pick(1995, 2105), 4)}-${pad(pick(0, 13), 2)}-${pad(pick(0, 32), 2)}T${pad(pick(0, 24), 2)}:${pad(pick(0, 60), 2)}:${pad(pick(0, 60), 2)}.${pad(pick(0, 999), 3)}Z`
      if (r() < 0.2) {
        const at = pick(0, v.length - 1)
        v = v.slice(0, at) + noise[pick(0, noise.length - 1)]! + v.slice(at + 1)
      }
      const want = reference(v)
      const got = parseEventTime(v)
      if (want !== null) {
        valid++
        expect(got, v).toEqual({ ok: true, ms: want })
      } else if (v.length === 24 && v.endsWith('Z') && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(v)) {
        // A canonical-looking string the reference refuses (a bad calendar date or time, before 2000) is refused.
        expect(got.ok, v).toBe(false)
      }
    }
    expect(valid).toBeGreaterThan(10_000)
  })

  it('words the errors as before for strings of this shape', () => {
    expect(parseEventTime('2026-02-30T00:00:00.000Z')).toEqual({ ok: false, reason: '"2026-02-30T00:00:00.000Z" is not a valid calendar date-time' })
    expect(parseEventTime('2026-12-01T24:00:00.000Z')).toEqual({ ok: false, reason: '"2026-12-01T24:00:00.000Z" is not a valid calendar date-time' })
    expect(parseEventTime('1999-12-31T23:59:59.999Z')).toEqual({ ok: false, reason: 'must be after 2000-01-01T00:00:00Z' })
    expect(parseEventTime('2024-02-29T12:00:00.123Z')).toEqual({ ok: true, ms: Date.UTC(2024, 1, 29, 12, 0, 0, 123) })
    expect(parseEventTime('2100-02-29T12:00:00.123Z').ok).toBe(false)
  })
})
