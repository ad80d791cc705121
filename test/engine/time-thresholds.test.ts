import { describe, expect, it } from 'vitest'
import { parseExpression } from '../../src/rules/index.ts'
import { timeDependence } from '../../src/engine/time-thresholds.ts'

const DAY = 86_400_000
const NEW_USER_MS = 3 * DAY
const deps = (rule: string) => timeDependence(parseExpression(rule), NEW_USER_MS)

describe('timeDependence: when a rule flips with no event', () => {
  it('reads since(trait) compared with a duration as two thresholds: at trait + d and one ms later', () => {
    expect(deps('since(last_seen) > 7d')).toEqual({
      thresholds: [
        { trait: 'last_seen', offsetMs: 7 * DAY },
        { trait: 'last_seen', offsetMs: 7 * DAY + 1 },
      ],
      needsPolling: false,
    })
  })

  it('takes a plain number as milliseconds, on either side of the comparison', () => {
    expect(deps('5000 <= since(first_seen)').thresholds).toEqual([
      { trait: 'first_seen', offsetMs: 5000 },
      { trait: 'first_seen', offsetMs: 5001 },
    ])
  })

  it('reads is_new as first_seen plus the new-user period', () => {
    expect(deps('is_new')).toEqual({ thresholds: [{ trait: 'first_seen', offsetMs: NEW_USER_MS }], needsPolling: false })
  })

  it('polls when since() is compared with something that is not a constant', () => {
    expect(deps('since(last_seen) > since(first_seen)').needsPolling).toBe(true)
    expect(deps('since(last_seen) > count(spin)').needsPolling).toBe(true)
    expect(deps('count(spin) > 1').needsPolling).toBe(false)
  })

  it('collects thresholds from every branch, and none from rules without time', () => {
    const d = deps('since(last_seen) >= 1d and (is_new or count(spin, 1h) > 2)')
    expect(d.thresholds.map((t) => `${t.trait}+${t.offsetMs}`)).toEqual([`last_seen+${DAY}`, `last_seen+${DAY + 1}`, `first_seen+${NEW_USER_MS}`])
    expect(d.needsPolling).toBe(false)
    expect(deps('count(spin, 1h) > 2 and country = "DE"')).toEqual({ thresholds: [], needsPolling: false })
  })
})
