import { describe, expect, it } from 'vitest'
import { mergeUser } from '../../src/engine/merge-user.ts'
import { buildProfile } from '../../src/engine/profile.ts'
import { PREDICTION_EVENT } from '../../src/events/prediction.ts'
import { changes, engine, ev, HOUR, MIN, rules, T0 } from './helpers.ts'

/**
 * Prediction events (src/events/prediction.ts, docs/engine.md "Traits"): they set the user's
 * predicted.* traits at once, at the watermark, latest scored_at winning, and are not activity.
 */
const DAY = 24 * HOUR
const RISKY = `
segments:
  risky:
    when: predicted.churn_7d > 0.7 and total_purchases > 50
`
const predict = (user: string, ts: number, props: Record<string, unknown>) => ev(PREDICTION_EVENT, user, ts, props)

describe('prediction events', () => {
  it('enter a segment on a prediction, and leave it when a later, lower one arrives', () => {
    const e = engine(RISKY)
    e.process(ev('purchase', 'a', T0, { amount: 60 }))
    e.process(ev('spin', 'b', T0 + 10 * MIN))
    expect(changes(e)).toEqual([])
    // Scored ahead of the partition's clock: applied at once, at the watermark (T0 + 10 min).
    e.process(predict('a', T0 + HOUR, { churn_7d: 0.9, purchase_7d: 0.2, wealth_30d: 120, model_version: 'm1' }))
    expect(changes(e)).toEqual([['a', 'risky', 'entered', 10]])
    e.process(ev('spin', 'b', T0 + 20 * MIN))
    e.process(predict('a', T0 + DAY, { churn_7d: 0.3, purchase_7d: 0.4, wealth_30d: 130, model_version: 'm2' }))
    expect(changes(e)).toEqual([['a', 'risky', 'exited', 20]])
    expect(e.stats).toMatchObject({ predictions: 2, predictionsDropped: 0 })
  })

  it('ignores a prediction scored before the one the user has; at an equal time the later in the log wins', () => {
    const e = engine(RISKY)
    e.process(ev('purchase', 'a', T0, { amount: 60 }))
    e.process(predict('a', T0 + DAY, { churn_7d: 0.9, model_version: 'new' }))
    e.process(predict('a', T0 + DAY - 1, { churn_7d: 0.1, model_version: 'old' }))
    expect(e.getUser('default', 'a')!.predicted).toMatchObject({ churn_7d: 0.9, model_version: 'new', scored_at: T0 + DAY })
    expect(changes(e)).toEqual([['a', 'risky', 'entered', 0]])
    e.process(predict('a', T0 + DAY, { churn_7d: 0.5, model_version: 'same run' }))
    expect(e.getUser('default', 'a')!.predicted).toMatchObject({ churn_7d: 0.5, model_version: 'same run' })
    expect(e.stats).toMatchObject({ predictions: 2, predictionsDropped: 1 })
  })

  it('clears a score its property does not give as a finite number', () => {
    const e = engine(RISKY)
    e.process(ev('purchase', 'a', T0, { amount: 60 }))
    e.process(predict('a', T0 + 1, { churn_7d: 0.9, purchase_7d: 0.5, wealth_30d: 3, model_version: 'm1' }))
    e.process(predict('a', T0 + 2, { churn_7d: null, purchase_7d: '0.5', model_version: 7 }))
    expect(e.getUser('default', 'a')!.predicted).toEqual({ churn_7d: null, purchase_7d: null, wealth_30d: null, model_version: null, scored_at: T0 + 2 })
    expect(changes(e)).toEqual([
      ['a', 'risky', 'entered', 0],
      ['a', 'risky', 'exited', 0],
    ])
  })

  it('is not activity: no clock, no held event, no last_seen, counts, properties, traits, aggregates or triggers', () => {
    const yaml = `
traits:
  plan: string
segments:
  busy:
    when: event_count >= 2
triggers:
  t:
    on: spin
    when: predicted.churn_7d > 0.5
`
    const e = engine(yaml, { allowedLatenessMs: 5 * MIN })
    e.process(ev('spin', 'a', T0, { country: 'TR', plan: 'free' }))
    e.process(ev('spin', 'b', T0 + 10 * MIN))
    const before = { watermark: e.watermark, maxTs: e.maxTs, held: e.held.size }
    const u = e.getUser('default', 'a')!
    const traits = () => ({ first: u.firstSeen, last: u.lastSeen, count: u.eventCount, counts: [...u.counts], profile: { ...u.profile }, custom: { ...u.custom } })
    const kept = traits()
    e.process(predict('a', T0 + 2 * HOUR, { churn_7d: 0.9, country: 'DE', plan: 'pro' }))
    expect({ watermark: e.watermark, maxTs: e.maxTs, held: e.held.size }).toEqual(before)
    expect(traits()).toEqual(kept)
    const profile = buildProfile(u, e.baseRules, e.options, e.watermark)
    expect(profile.traits).toMatchObject({ event_count: 1, country: 'TR', plan: 'free', 'predicted.churn_7d': 0.9, 'predicted.purchase_7d': null, 'predicted.scored_at': T0 + 2 * HOUR })
    expect(profile.counts).toEqual({ spin: 1 })
    expect(e.drainOutputs()).toMatchObject({ changes: [], notifications: [] })
    // The trigger reads the trait on the user's next event.
    e.process(ev('spin', 'a', T0 + 11 * MIN))
    e.advanceTo(T0 + HOUR)
    expect(e.drainOutputs().notifications.map((n) => n.user_id)).toEqual(['a'])
  })

  it('drops a prediction for a user the partition does not hold, and creates no profile', () => {
    const e = engine(RISKY)
    e.process(ev('spin', 'b', T0))
    e.process(predict('nobody', T0, { churn_7d: 0.9 }))
    expect(e.getUser('default', 'nobody')).toBeUndefined()
    expect(e.userCount).toBe(1)
    expect(e.takeDirty().map((u) => u.userId)).toEqual(['b'])
    expect(e.stats).toMatchObject({ predictions: 0, predictionsDropped: 1 })
  })

  it('flips since(predicted.scored_at) by timer, with no event of the user', () => {
    const e = engine('segments:\n  stale:\n    when: since(predicted.scored_at) > 2d\n')
    e.process(ev('spin', 'a', T0))
    e.process(predict('a', T0, { churn_7d: 0.1 }))
    e.process(ev('spin', 'b', T0 + 2 * DAY + 1))
    expect(changes(e)).toEqual([])
    e.process(ev('spin', 'b', T0 + 2 * DAY + 2))
    expect(changes(e)).toEqual([['a', 'stale', 'entered', 2 * 24 * 60 + 1 / MIN]])
  })

  it('marks the user for the next checkpoint, whose snapshot carries the prediction', async () => {
    const { decodeUser, encodeUser } = await import('../../src/engine/user-snapshot.ts')
    const e = engine(RISKY)
    e.process(ev('purchase', 'a', T0, { amount: 60 }))
    e.takeDirty()
    e.process(predict('a', T0, { churn_7d: 0.9, wealth_30d: null, model_version: 'm1' }))
    const [u] = e.takeDirty()
    expect(u?.userId).toBe('a')
    const back = decodeUser(encodeUser(u!, e.baseRules), e.baseRules)
    expect(back.predicted).toEqual({ churn_7d: 0.9, purchase_7d: null, wealth_30d: null, model_version: 'm1', scored_at: T0 })
  })

  it("an identity merge keeps the prediction scored later, the person's own at an equal time", () => {
    const r = rules(RISKY)
    const e = engine(RISKY)
    e.process(ev('purchase', 'p', T0, { amount: 60 }))
    e.process(ev('spin', 'x', T0))
    e.process(ev('spin', 'y', T0))
    e.process(predict('p', T0 + DAY, { churn_7d: 0.1, model_version: 'person' }))
    e.process(predict('x', T0 + 2 * DAY, { churn_7d: 0.8, model_version: 'later' }))
    e.process(predict('y', T0 + DAY, { churn_7d: 0.9, model_version: 'same time' }))
    const [p, x, y] = ['p', 'x', 'y'].map((id) => e.getUser('default', id)!)
    mergeUser(p!, y!, r.rules)
    expect(p!.predicted?.model_version).toBe('person')
    mergeUser(p!, x!, r.rules)
    expect(p!.predicted).toMatchObject({ model_version: 'later', churn_7d: 0.8, scored_at: T0 + 2 * DAY })
  })

  it('drops a prediction for an id absorbed into a person: the person keeps its own', () => {
    const e = engine(RISKY)
    e.process({ ...ev('spin', 'devA', T0), anonymous_id: 'devA' })
    e.process({ ...ev('purchase', 'alice', T0 + 1, { amount: 60 }), anonymous_id: 'devA' })
    expect(e.redirectOf('default', 'devA')).toBe('alice')
    e.process(predict('alice', T0 + DAY, { churn_7d: 0.2 }))
    e.process(predict('devA', T0 + DAY, { churn_7d: 0.9 }))
    expect(e.getUser('default', 'alice')!.predicted?.churn_7d).toBe(0.2)
    expect(e.getUser('default', 'devA')).toBeUndefined()
    expect(e.stats).toMatchObject({ predictions: 1, predictionsDropped: 1 })
    expect(changes(e)).toEqual([])
  })
})
