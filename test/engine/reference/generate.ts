/**
 * Generated workloads. Random rules and events are not enough: bugs in windowed engines hide at
 * exact instants (a bucket boundary, the millisecond an event slides out, the due time of a keep, a
 * since() threshold), so most event times here are such instants, ±1 ms, computed from the events
 * generated before. Arrival order is then disturbed within and beyond the allowed lateness.
 */
import { Prng } from './prng.ts'
import { slideOut, windowShape, type RefEvent } from './reference-engine.ts'
import { draftPrediction, predictedAtom } from './generate-predictions.ts'
import { aggregatesOf, type AggFn, type AggSpec, type CmpOp, type Cond, type Literal, type RuleSet, type SegmentSpec, type Term, type TriggerSpec } from './rule-model.ts'
import { runReference } from './run-reference.ts'
import { BASE, type Input, type Workload } from './workload.ts'

const S = 1_000
const M = 60 * S
const H = 60 * M

/** Windows, keeps, since() thresholds and lateness on one time scale, so that they interact. */
interface Scale {
  windows: number[]
  keeps: number[]
  since: number[]
  newUser: number[]
  lateness: number[]
}

const SCALES: Scale[] = [
  // Seconds: windows that are not multiples of 120 ms (7 s → 56 ms buckets, 13 s → 104 ms) and one that is (1 m).
  { windows: [1 * S, 7 * S, 10 * S, 13 * S, 1 * M], keeps: [1 * S, 3 * S, 5 * S], since: [2 * S, 5 * S, 10 * S], newUser: [20 * S, 30 * S], lateness: [300, 2 * S, 5 * S] },
  // Minutes.
  { windows: [10 * S, 1 * M, 7 * M, 10 * M], keeps: [30 * S, 1 * M, 3 * M], since: [1 * M, 5 * M], newUser: [10 * M], lateness: [10 * S, 1 * M] },
  // Hours: 2h is the seed's window; events must span hours for it to slide.
  { windows: [1 * M, 1 * H, 2 * H], keeps: [3 * M, 10 * M], since: [5 * M, 1 * H], newUser: [3 * H, 24 * H], lateness: [1 * M, 10 * M] },
]

const PURCHASES = ['purchase', 'in_app_purchase', 'approved_purchase'] as const
const EVENTS = ['spin', 'purchase', 'in_app_purchase', 'approved_purchase', 'join_guild', 'add_to_cart', 'level_end', 'add-to-cart'] as const
/** 3.33 + 3.33 + 3.34 = 10 and 0.1 + 0.2 = 0.3 only with exact sums; negative ones make sums grow as they slide out. */
const AMOUNTS = [3.33, 3.33, 3.34, 0.1, 0.2, 0.3, 10, 10, -5, -0.1, 4.99, 2.5, 0.000001, 7, 0] as const
const SUM_THRESHOLDS = [10, 10, 0, 0.3, 6.66, 6.67, 9.99, 3.33, -5, 5, 0.1] as const
const GUILDS = ['a', 'b', 'c', '1', 1, 2, true, null] as const
const COUNTRIES = ['TR', 'DE', 'US', 'TR', 'DE', '', 'tr', 5] as const

interface Gen {
  rng: Prng
  scale: Scale
  windows: number[]
  /** The workload has prediction events, and its rules read the predicted.* traits. */
  predictions: boolean
}

// ---------------------------------------------------------------------------------------------
// Rules

function window(g: Gen): number | null {
  return g.rng.chance(0.2) ? null : g.rng.pick(g.windows)
}

function num(value: number): Literal {
  return { kind: 'number', value }
}

function filter(g: Gen, event: string): Cond | null {
  if (!g.rng.chance(0.3)) return null
  const prop = (path: string[]): Term => ({ kind: 'prop', path })
  const str = (value: string): Literal => ({ kind: 'string', value })
  const options: Cond[] = [
    { kind: 'cmp', op: '=', left: prop(['item']), right: str('sword') },
    { kind: 'not', operand: { kind: 'cmp', op: '=', left: prop(['item']), right: str('shield') } },
    { kind: 'cmp', op: '>', left: prop(['amount']), right: num(0) },
    { kind: 'cmp', op: '>=', left: prop(['meta', 'price']), right: num(5) },
    { kind: 'in', operand: prop(['country']), values: [str('TR'), str('DE')], negated: g.rng.chance(0.3) },
  ]
  if (event === 'level_end') {
    options.push(
      { kind: 'cmp', op: '!=', left: prop(['result']), right: str('win') },
      { kind: 'or', left: { kind: 'cmp', op: '=', left: prop(['mode']), right: str('daily') }, right: { kind: 'cmp', op: '=', left: prop(['mode']), right: str('ranked') } },
    )
  }
  return g.rng.pick(options)
}

function op(g: Gen, growing: boolean): CmpOp {
  // Mostly the monotone forms the engine optimises (> and >=), but every operator appears.
  return growing
    ? g.rng.weighted<CmpOp>([
        [4, '>='],
        [3, '>'],
        [1, '<'],
        [1, '<='],
        [1, '='],
        [1, '!='],
      ])
    : g.rng.pick<CmpOp>(['>', '>=', '<', '<=', '=', '!='])
}

function agg(g: Gen, fn: AggFn): AggSpec {
  const r = g.rng
  switch (fn) {
    case 'count': {
      const event = r.pick(EVENTS)
      return { fn, event, field: null, filter: filter(g, event), windowMs: window(g) }
    }
    case 'distinct':
      return r.chance(0.7)
        ? { fn, event: 'join_guild', field: ['guild_id'], filter: null, windowMs: window(g) }
        : { fn, event: r.pick(PURCHASES), field: ['item'], filter: filter(g, 'purchase'), windowMs: window(g) }
    default: {
      if (r.chance(0.15)) return { fn, event: 'spin', field: ['bet'], filter: null, windowMs: window(g) }
      if (r.chance(0.1)) return { fn, event: 'purchase', field: ['meta', 'price'], filter: null, windowMs: window(g) }
      const event = r.pick(PURCHASES)
      return { fn, event, field: ['amount'], filter: filter(g, event), windowMs: window(g) }
    }
  }
}

function aggregateAtom(g: Gen): Cond {
  const r = g.rng
  const fn = r.weighted<AggFn>([
    [4, 'count'],
    [4, 'sum'],
    [1, 'avg'],
    [1, 'min'],
    [1, 'max'],
    [2, 'distinct'],
  ])
  const a: Term = { kind: 'agg', agg: agg(g, fn) }
  if (r.chance(0.1)) {
    // Aggregates on both sides: `sum(a, 7s) > sum(b, 10s)`.
    const b: Term = { kind: 'agg', agg: agg(g, fn === 'distinct' ? 'count' : fn) }
    return { kind: 'cmp', op: op(g, false), left: a, right: b }
  }
  switch (fn) {
    case 'count':
    case 'distinct':
      return { kind: 'cmp', op: op(g, true), left: a, right: num(r.int(1, 3)) }
    case 'sum':
      return { kind: 'cmp', op: op(g, true), left: a, right: num(r.pick(SUM_THRESHOLDS)) }
    default:
      return { kind: 'cmp', op: op(g, false), left: a, right: num(r.pick([3.33, 3.335, 5, 0.15, 0, 1, 10])) }
  }
}

function traitAtom(g: Gen): Cond {
  const r = g.rng
  if (g.predictions && r.chance(0.5)) return predictedAtom(g)
  const country: Term = { kind: 'trait', name: 'country' }
  const str = (value: string): Literal => ({ kind: 'string', value })
  const choices: Array<() => Cond> = [
    () => ({ kind: 'cmp', op: r.pick<CmpOp>(['=', '!=']), left: country, right: str(r.pick(['TR', 'DE'])) }),
    () => ({ kind: 'cmp', op: r.pick<CmpOp>(['>', '<=']), left: country, right: str('M') }),
    () => ({ kind: 'in', operand: country, values: [str('TR'), str('DE')], negated: r.chance(0.4) }),
    () => ({ kind: 'cmp', op: op(g, true), left: { kind: 'trait', name: 'event_count' }, right: num(r.int(2, 6)) }),
    () => ({ kind: 'cmp', op: op(g, true), left: { kind: 'trait', name: 'total_purchases' }, right: num(r.pick(SUM_THRESHOLDS)) }),
    () => ({ kind: 'is', operand: { kind: 'trait', name: 'is_new' } }),
    () => ({ kind: 'not', operand: { kind: 'is', operand: { kind: 'trait', name: 'is_new' } } }),
    () => ({
      kind: 'cmp',
      op: r.pick<CmpOp>(['>', '>=', '<', '<=']),
      left: { kind: 'since', trait: r.chance(0.8) ? 'last_seen' : 'first_seen' },
      right: { kind: 'duration', ms: r.pick(g.scale.since) },
    }),
    () => ({ kind: 'cmp', op: r.pick<CmpOp>(['>', '=']), left: { kind: 'duration', ms: r.pick(g.scale.since) }, right: { kind: 'since', trait: 'last_seen' } }),
    // Timestamps against a constant: these change only when an event (maybe a late one) is applied.
    () => ({ kind: 'cmp', op: op(g, false), left: { kind: 'trait', name: r.pick(['first_seen', 'last_seen'] as const) }, right: num(BASE + r.int(0, 3 * Math.max(...g.windows))) }),
    () => ({ kind: 'cmp', op: r.pick<CmpOp>(['=', '!=']), left: { kind: 'trait', name: 'language' }, right: str('de') }),
  ]
  return r.pick(choices)()
}

function cond(g: Gen, depth: number): Cond {
  const r = g.rng
  if (depth === 0 || r.chance(0.45)) return r.chance(0.7) ? aggregateAtom(g) : traitAtom(g)
  const kind = r.weighted<'and' | 'or' | 'not'>([
    [3, 'and'],
    [2, 'or'],
    [1, 'not'],
  ])
  if (kind === 'not') return { kind, operand: cond(g, depth - 1) }
  return { kind, left: cond(g, depth - 1), right: cond(g, depth - 1) }
}

function triggerCond(g: Gen): Cond | null {
  const r = g.rng
  if (r.chance(0.3)) return null
  const prop = (path: string[]): Term => ({ kind: 'prop', path })
  const own: Cond[] = [
    { kind: 'cmp', op: '>', left: prop(['cart_amount']), right: num(50) },
    { kind: 'cmp', op: '>=', left: prop(['amount']), right: num(3.33) },
    { kind: 'cmp', op: '=', left: prop(['item']), right: { kind: 'string', value: 'sword' } },
    { kind: 'cmp', op: '!=', left: prop(['bet']), right: num(1) },
  ]
  const mine = r.pick(own)
  if (r.chance(0.4)) return mine
  const other = cond(g, 1)
  return r.chance(0.5) ? { kind: 'and', left: mine, right: other } : { kind: 'or', left: other, right: mine }
}

function rules(g: Gen): RuleSet {
  const r = g.rng
  const segments: SegmentSpec[] = Array.from({ length: r.int(1, 4) }, (_, i) => ({
    name: `s${i}`,
    when: cond(g, 2),
    keepMs: r.chance(0.4) ? r.pick(g.scale.keeps) : 0,
  }))
  const triggers: TriggerSpec[] = Array.from(
    {
      length: r.weighted([
        [2, 0],
        [3, 1],
        [1, 2],
      ]),
    },
    (_, i) => {
      const on = r.pick(EVENTS)
      return { name: `t${i}`, on, when: triggerCond(g), emit: r.chance(0.8) ? 'notification' : 'webhook.crm' }
    },
  )
  return { segments, triggers }
}

// ---------------------------------------------------------------------------------------------
// Events

function properties(g: Gen, event: string): Record<string, unknown> {
  const r = g.rng
  const p: Record<string, unknown> = {}
  switch (event) {
    case 'spin':
      p.bet = r.pick([1, 2, 0.5, '2'])
      break
    case 'purchase':
    case 'in_app_purchase':
    case 'approved_purchase':
      // Strings are not coerced; missing, boolean and null amounts do not count either.
      p.amount = r.weighted<unknown>([
        [16, r.pick(AMOUNTS)],
        [2, '4.99'],
        [1, true],
        [1, null],
        [1, { value: 3 }],
      ])
      if (r.chance(0.1)) delete p.amount
      if (r.chance(0.6)) p.item = r.pick(['sword', 'shield', 'sword', 7])
      if (r.chance(0.3)) p.meta = { price: r.pick([1, 5, 7.5, '5']) }
      break
    case 'join_guild':
      p.guild_id = r.pick(GUILDS)
      break
    case 'add_to_cart':
    case 'add-to-cart':
      p.cart_amount = r.pick([20, 50, 51, 80, '80', 50.5])
      break
    case 'level_end':
      p.result = r.pick(['win', 'lose'])
      p.mode = r.pick(['tutorial', 'daily', 'ranked'])
      break
  }
  if (r.chance(0.35)) p.country = r.pick(COUNTRIES)
  if (r.chance(0.05)) p.language = 'de'
  return p
}

interface Drafted {
  e: RefEvent
  /** Position in generation order: ties in arrival order are broken by it. */
  n: number
  /** A prediction's arrival: when the scoring run wrote it, whatever the time it was scored at. */
  at?: number
}

/**
 * The next event time: mostly an instant where something happens (a bucket boundary, a slide-out,
 * a keep's due time, a since() threshold), or exactly a time already used; sometimes a small step or
 * a jump past every window (a silent period for the users who send nothing then).
 */
function nextTime(g: Gen, cursor: number, mine: readonly number[], all: readonly number[], keeps: readonly number[], bucketsPerWindow: number): number {
  const r = g.rng
  const w = r.pick(g.windows)
  const shape = windowShape(w, bucketsPerWindow)
  const b = shape.bucketMs
  const delta = r.pick([-1, 0, 0, 0, 1])
  const earlier = mine.length > 0 && r.chance(0.7) ? r.pick(mine) : all.length > 0 ? r.pick(all) : cursor
  const kind = r.weighted<string>([
    [5, 'step'],
    [3, 'boundary'],
    [4, 'slide-out'],
    [3, 'keep'],
    [2, 'since'],
    [2, 'same'],
    [1, 'jump'],
  ])
  switch (kind) {
    case 'boundary':
      return Math.ceil((cursor + r.int(0, 3 * b)) / b) * b + delta
    case 'slide-out':
      return slideOut(earlier, shape) + delta
    case 'keep': {
      // The due time F + keep, where F (the rule first found false) is mostly the slide-out of the
      // user's latest event, else an event time: an event exactly then must cancel the exit.
      const keep = keeps.length > 0 ? r.pick(keeps) : r.pick(g.scale.keeps)
      const last = mine.length > 0 ? Math.max(...mine) : cursor
      const F = r.weighted([
        [3, slideOut(last, shape)],
        [1, last],
        [1, slideOut(earlier, shape)],
      ])
      return F + keep + r.pick([0, 0, 0, -1, 1])
    }
    case 'since': {
      const last = mine.length > 0 ? Math.max(...mine) : cursor
      return last + r.pick(g.scale.since) + r.pick([0, 1, 2, -1])
    }
    case 'same':
      return earlier
    case 'jump':
      return cursor + w * r.int(1, 3) + r.int(0, b)
    default:
      return cursor + r.int(0, Math.max(1, Math.floor(w / r.pick([4, 10, 40]))))
  }
}

export function generate(seed: number): Workload {
  const rng = new Prng(seed)
  const scale = rng.pick(SCALES)
  const windows = [...new Set(Array.from({ length: rng.int(1, 3) }, () => rng.pick(scale.windows)))]
  const g: Gen = { rng, scale, windows, predictions: rng.chance(0.5) }
  const bucketsPerWindow = rng.weighted([
    [6, 120],
    [1, 7],
    [1, 4],
  ])
  const allowedLatenessMs = rng.chance(0.45) ? 0 : rng.pick(scale.lateness)
  const newUserMs = rng.pick(scale.newUser)
  const maxWindow = Math.max(...windows)
  const ruleSet = rules(g)
  const keeps = ruleSet.segments.map((s) => s.keepMs).filter((k) => k > 0)

  // Users: the same user id in two tenants is two users. Each user is active in a stretch of the
  // sequence only, so most users fall silent while others keep the clock moving.
  const tenants = rng.chance(0.5) ? ['default'] : ['default', 'acme']
  const users = Array.from({ length: rng.int(2, 6) }, (_, i) => ({
    tenant: rng.pick(tenants),
    user_id: rng.pick(['1', '2', '10', 'u', 'ü', `${i}`]),
    from: rng.next() * 0.5,
    to: 0.5 + rng.next() * 0.5,
  }))
  const count = rng.int(8, 60)
  const drafted: Drafted[] = []
  const times = new Map<string, number[]>()
  /** The last scored_at drafted per user: a later prediction of the same instant is a tie. */
  const scored = new Map<string, number>()
  const all: number[] = []
  let cursor = BASE + rng.int(0, 2000)
  for (let n = 0; n < count; n++) {
    const active = users.filter((u) => n / count >= u.from && n / count <= u.to)
    const u = rng.pick(active.length > 0 ? active : users)
    const key = `${u.tenant}:${u.user_id}`
    const mine = times.get(key) ?? []
    if (g.predictions && rng.chance(0.25)) {
      const d = draftPrediction(g, u, cursor, maxWindow, mine, scored, n)
      times.set(key, mine)
      drafted.push(d)
      continue
    }
    const ts = Math.max(BASE, nextTime(g, cursor, mine, all, keeps, bucketsPerWindow))
    cursor = Math.max(cursor, ts)
    mine.push(ts)
    times.set(key, mine)
    all.push(ts)
    const event = rng.weighted<string>([
      [4, 'spin'],
      [4, 'purchase'],
      [2, 'in_app_purchase'],
      [1, 'approved_purchase'],
      [3, 'join_guild'],
      [2, 'add_to_cart'],
      [1, 'level_end'],
      [1, 'add-to-cart'],
    ])
    drafted.push({ e: { event, user_id: u.user_id, tenant: u.tenant, ts, event_id: `e${n}`, properties: properties(g, event) }, n })
  }

  // Arrival order: event time plus a delay, mostly none, sometimes within the lateness, sometimes far
  // beyond it (late, possibly too old for a window).
  const delay = () =>
    rng.weighted<number>([
      [14, 0],
      [3, allowedLatenessMs > 0 ? rng.int(1, allowedLatenessMs) : 0],
      [1, allowedLatenessMs + rng.int(1, 3 * windowShape(rng.pick(windows), bucketsPerWindow).bucketMs)],
      [1, allowedLatenessMs + rng.int(1, Math.ceil(maxWindow * 1.3))],
    ])
  const arrival = drafted.map((d) => ({ d, at: d.at ?? d.e.ts + delay() })).sort((a, b) => a.at - b.at || a.d.n - b.d.n)

  const partitions = rng.weighted([
    [3, 1],
    [2, 2],
    [1, 3],
  ])
  const inputs: Input[] = []
  const clocks = rng.chance(0.5)
  let latest = -Infinity
  for (const { d } of arrival) {
    inputs.push({ kind: 'event', event: d.e })
    latest = Math.max(latest, d.e.ts)
    if (clocks && rng.chance(0.2)) {
      // A quiet partition's clock record: now − L − margin, often inside a silent period.
      const b = windowShape(rng.pick(windows), bucketsPerWindow).bucketMs
      const t = latest - allowedLatenessMs + rng.pick([-b, 0, 1, rng.int(0, maxWindow), rng.int(maxWindow, 2 * maxWindow)])
      inputs.push({ kind: 'clock', t, partition: rng.chance(0.5) ? null : rng.int(0, partitions - 1) })
    }
  }
  // A small held buffer now and then: the overflow moves the clock to release the earliest.
  const maxHeldEvents = allowedLatenessMs > 0 && rng.chance(0.2) ? rng.int(1, 4) : undefined
  const w: Workload = {
    name: `seed ${seed}`,
    options: { allowedLatenessMs, bucketsPerWindow, newUserMs, ...(maxHeldEvents === undefined ? {} : { maxHeldEvents }) },
    partitions,
    rules: ruleSet,
    style: { doubleEquals: rng.chance(0.2), seconds: rng.chance(0.2) },
    inputs,
  }
  return cancelSomeExits(w, rng)
}

/**
 * The instant a keep runs out depends on when the rule was first found false, which is hard to aim
 * at blind. So run the reference once and, for some exits after a keep, repeat the user's latest
 * event that feeds the segment at exactly the exit time: docs/engine.md says that cancels the exit.
 */
function cancelSomeExits(w: Workload, rng: Prng): Workload {
  const exits = runReference(w)
    .flatMap((p) => p.changes)
    .filter((c) => c.change === 'exited' && (w.rules.segments.find((s) => s.name === c.segment)?.keepMs ?? 0) > 0)
  const inputs = [...w.inputs]
  for (const exit of exits) {
    if (!rng.chance(0.7)) continue
    const feeds = new Set([...aggregatesOf(w.rules.segments.find((s) => s.name === exit.segment)!.when).values()].map((a) => a.event))
    const source = inputs
      .flatMap((i) => (i.kind === 'event' ? [i.event] : []))
      .filter((e) => e.tenant === exit.tenant && e.user_id === exit.user_id && e.ts <= exit.at && feeds.has(e.event))
      .sort((a, b) => a.ts - b.ts)
      .pop()
    if (source === undefined) continue
    const copy: RefEvent = { ...source, ts: exit.at, event_id: `${source.event_id}-at-due` }
    // In log order where an event of that time would arrive: before the first one that is later.
    const at = inputs.findIndex((i) => i.kind === 'event' && i.event.ts > exit.at)
    inputs.splice(at < 0 ? inputs.length : at, 0, { kind: 'event', event: copy })
  }
  return { ...w, inputs }
}
