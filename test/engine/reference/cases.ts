/**
 * Hand-written workloads, one per bug the issue lists (and a few more rules of docs/engine.md),
 * each with the outcome worked out by hand from the docs. They check the reference itself as much
 * as the engine: if the reference and a hand-derived expectation disagree, the reference is wrong.
 */
import type { RefEvent } from './reference-engine.ts'
import type { AggSpec, Cond, RuleSet, SegmentSpec, Term } from './rule-model.ts'
import { BASE, type Input, type Workload } from './workload.ts'

/** [user_id, segment, change, at − BASE, version] */
export type ChangeTuple = [string, string, 'entered' | 'exited', number, number]

export interface Case {
  workload: Workload
  changes: ChangeTuple[]
  /** Checked when given. */
  late?: number
  lateDropped?: number
  /** [trigger, index of the triggering event in the inputs] of each notification, when given. */
  notifications?: Array<[string, number]>
  /** `values` of the n-th change, when given: [n, values]. */
  values?: Array<[number, Record<string, number | null>]>
}

let ids = 0
function ev(event: string, user: string, at: number, properties: Record<string, unknown> = {}): Input {
  const e: RefEvent = { event, user_id: user, ts: BASE + at, event_id: `h${ids++}`, tenant: 'default', properties }
  return { kind: 'event', event: e }
}

function clock(at: number): Input {
  return { kind: 'clock', t: BASE + at, partition: null }
}

const agg = (fn: AggSpec['fn'], event: string, field: string | null, windowMs: number | null): Term => ({
  kind: 'agg',
  agg: { fn, event, field: field === null ? null : field.split('.'), filter: null, windowMs },
})
const cmp = (left: Term, op: '>' | '>=' | '=' | '<', value: number): Cond => ({ kind: 'cmp', op, left, right: { kind: 'number', value } })
const seg = (when: Cond, keepMs = 0): SegmentSpec => ({ name: 's', when, keepMs })

function workload(name: string, rules: RuleSet, inputs: Input[], allowedLatenessMs = 0): Workload {
  return { name, options: { allowedLatenessMs, bucketsPerWindow: 120, newUserMs: 86_400_000 }, partitions: 1, rules, style: { doubleEquals: false, seconds: false }, inputs }
}

export const CASES: Case[] = [
  {
    // Bug 4: 10s has 125 buckets of 80 ms. An event at +79 shares bucket 0 with +0 and leaves at
    // +10000 exactly (a rounded 83 ms bucket made it 10,043 ms).
    workload: workload('bug 4: 10s is 125 buckets of 80 ms', { segments: [seg(cmp(agg('count', 'spin', null, 10_000), '>=', 1))], triggers: [] }, [ev('spin', '1', 79), ev('spin', '2', 20_000)]),
    changes: [
      ['1', 's', 'entered', 79, 1],
      ['1', 's', 'exited', 10_000, 2],
      ['2', 's', 'entered', 20_000, 1],
    ],
  },
  {
    // Same for 7s: 125 buckets of 56 ms, so an event at +55 (bucket 0) leaves at +7000.
    workload: workload('bug 4: 7s is 125 buckets of 56 ms', { segments: [seg(cmp(agg('count', 'spin', null, 7_000), '>=', 1))], triggers: [] }, [ev('spin', '1', 55), ev('spin', '2', 20_000)]),
    changes: [
      ['1', 's', 'entered', 55, 1],
      ['1', 's', 'exited', 7_000, 2],
      ['2', 's', 'entered', 20_000, 1],
    ],
  },
  {
    // Bug 2: 0.1 + 0.2 + 10 then both small ones slide out: exactly 10, which is not > 10.
    workload: workload('bug 2: sums are exact to 6 decimals as values slide out', { segments: [seg(cmp(agg('sum', 'purchase', 'amount', 10_000), '>', 10))], triggers: [] }, [
      ev('purchase', '1', 0, { amount: 0.1 }),
      ev('purchase', '1', 80, { amount: 0.2 }),
      ev('purchase', '1', 5_000, { amount: 10 }),
      ev('spin', '2', 20_000),
    ]),
    changes: [
      ['1', 's', 'entered', 5_000, 1],
      ['1', 's', 'exited', 10_080, 2],
    ],
    values: [
      [0, { 'sum(purchase.amount, 10s)': 10.3 }],
      [1, { 'sum(purchase.amount, 10s)': 10 }],
    ],
  },
  {
    // 3.33 + 3.33 + 3.34 is 10; the string "4.99" is not coerced.
    workload: workload('sum = 10 exactly; strings do not count', { segments: [seg(cmp(agg('sum', 'purchase', 'amount', null), '=', 10))], triggers: [] }, [
      ev('purchase', '1', 0, { amount: 3.33 }),
      ev('purchase', '1', 1, { amount: 3.33 }),
      ev('purchase', '1', 2, { amount: '4.99' }),
      ev('purchase', '1', 3, { amount: 3.34 }),
    ]),
    changes: [['1', 's', 'entered', 3, 1]],
    values: [[0, { 'sum(purchase.amount)': 10 }]],
  },
  {
    // Bug 3: with L = 2 s the spin at +3000 is held until the clock reaches it (the end, +3000);
    // counting it from the start of its bucket would enter the user at +1000.
    workload: workload(
      'bug 3: an event ahead of the watermark counts from its own time',
      { segments: [seg(cmp(agg('count', 'spin', null, 10_000), '>=', 2))], triggers: [] },
      [ev('spin', '1', 0), ev('spin', '2', 2_500), ev('spin', '1', 3_000)],
      2_000,
    ),
    changes: [['1', 's', 'entered', 3_000, 1]],
    late: 0,
  },
  {
    // Bug 1: distinct with lateness 5 s. "b" at +8000 is held, so the late "a" at +2000 (applied at
    // W = +3000) finds one value, not two; "b" counts from +8000, and "a" again at +9000 keeps two
    // values until "b" (bucket 100) leaves at +18000.
    workload: workload(
      'bug 1: windowed distinct with held events',
      { segments: [seg(cmp(agg('distinct', 'join_guild', 'guild_id', 10_000), '>=', 2))], triggers: [] },
      [
        ev('join_guild', '1', 0, { guild_id: 'a' }),
        ev('join_guild', '1', 8_000, { guild_id: 'b' }),
        ev('join_guild', '1', 2_000, { guild_id: 'a' }),
        ev('join_guild', '1', 9_000, { guild_id: 'a' }),
        ev('spin', '2', 30_000),
      ],
      5_000,
    ),
    late: 1,
    changes: [
      ['1', 's', 'entered', 8_000, 1],
      ['1', 's', 'exited', 18_000, 2],
    ],
  },
  {
    // Bug 6: three late spins; two are too old for the 1 s window (one of them for the 10 s window
    // too): lateDropped counts events, not windows.
    workload: workload(
      'bug 6: lateDropped once per event',
      { segments: [seg({ kind: 'or', left: cmp(agg('count', 'spin', null, 1_000), '>=', 1), right: cmp(agg('count', 'spin', null, 10_000), '>=', 5) })], triggers: [] },
      [ev('spin', '1', 20_000), ev('spin', '1', 0), ev('spin', '1', 19_500), ev('spin', '1', 18_000)],
    ),
    changes: [['1', 's', 'entered', 20_000, 1]],
    late: 3,
    lateDropped: 2,
  },
  {
    // Bug 7: keep 3 s. The spin at 0 leaves the 1 s window at +1000 (F), the exit is due at +4000,
    // and a spin at exactly +4000 cancels it. That spin leaves at +5000, so the exit is at +8000.
    workload: workload('bug 7: keep is cancelled at the due instant', { segments: [seg(cmp(agg('count', 'spin', null, 1_000), '>=', 1), 3_000)], triggers: [] }, [
      ev('spin', '1', 0),
      ev('spin', '1', 4_000),
      ev('spin', '2', 9_000),
    ]),
    changes: [
      ['1', 's', 'entered', 0, 1],
      ['1', 's', 'exited', 8_000, 2],
      ['2', 's', 'entered', 9_000, 1],
    ],
  },
  {
    // A late event is applied at the watermark: the user enters at +6000, not at +5000.
    workload: workload('a late event is applied at W', { segments: [seg(cmp(agg('count', 'spin', null, 10_000), '>=', 2))], triggers: [] }, [
      ev('spin', '1', 5_000),
      ev('level_end', '2', 6_000),
      ev('spin', '1', 1_000),
      ev('level_end', '2', 12_000),
    ]),
    // The spin at +1000 (bucket 12, from +960) leaves at +10960; the one at +5000 after the end.
    changes: [
      ['1', 's', 'entered', 6_000, 1],
      ['1', 's', 'exited', 10_960, 2],
    ],
    late: 1,
    lateDropped: 0,
  },
  {
    // Country: latest event time wins, the greater string at equal times, whatever the arrival order.
    workload: workload(
      'country by event time, ties to the greater string',
      { segments: [seg({ kind: 'cmp', op: '=', left: { kind: 'trait', name: 'country' }, right: { kind: 'string', value: 'TR' } })], triggers: [] },
      [ev('spin', '1', 0, { country: 'TR' }), ev('spin', '1', 0, { country: 'DE' }), ev('spin', '2', 500), ev('spin', '1', 100, { country: 'US' }), ev('spin', '1', 1_000, { country: 'US' })],
    ),
    // The US at +100 arrives late (W = +500) but is the latest time: it wins at once.
    changes: [
      ['1', 's', 'entered', 0, 1],
      ['1', 's', 'exited', 500, 2],
    ],
  },
  {
    // A silent user leaves on a clock record, with no event at all after theirs.
    workload: workload('a clock record moves the clock', { segments: [seg(cmp(agg('count', 'spin', null, 10_000), '>=', 1))], triggers: [] }, [ev('spin', '1', 0), clock(20_000)]),
    changes: [
      ['1', 's', 'entered', 0, 1],
      ['1', 's', 'exited', 10_000, 2],
    ],
  },
  {
    // since(last_seen) > 5s becomes true 1 ms after last_seen + 5 s.
    workload: workload(
      'since(last_seen) > 5s',
      {
        segments: [
          seg({
            kind: 'and',
            left: cmp(agg('count', 'purchase', null, null), '>=', 1),
            right: { kind: 'cmp', op: '>', left: { kind: 'since', trait: 'last_seen' }, right: { kind: 'duration', ms: 5_000 } },
          }),
        ],
        triggers: [],
      },
      [ev('purchase', '1', 0, { amount: 1 }), ev('spin', '2', 10_000)],
    ),
    changes: [['1', 's', 'entered', 5_001, 1]],
  },
  {
    // A trigger reads the triggering event's property; "80" is a string and is not > 50.
    workload: workload(
      'trigger on add_to_cart when cart_amount > 50',
      { segments: [], triggers: [{ name: 'cart_push', on: 'add_to_cart', when: cmp({ kind: 'prop', path: ['cart_amount'] }, '>', 50), emit: 'notification' }] },
      [ev('add_to_cart', '1', 0, { cart_amount: 80 }), ev('add_to_cart', '1', 1, { cart_amount: '80' }), ev('add_to_cart', '1', 2, { cart_amount: 50.5 })],
    ),
    changes: [],
    notifications: [
      ['cart_push', 0],
      ['cart_push', 2],
    ],
  },
]
