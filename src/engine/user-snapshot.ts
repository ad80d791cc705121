import { pack, unpack } from '../events/msgpack.ts'
import type { EngineRules } from './engine-rules.ts'
import { toMicros } from './metrics/exact-sum.ts'
import { LifetimeMetric } from './metrics/lifetime.ts'
import type { MetricSnapshot } from './metrics/metric-state.ts'
import { WindowedMetric } from './metrics/windowed.ts'
import { eventNameId, eventNameOf } from './event-names.ts'
import type { ProfileProperty } from '../rules/index.ts'
import { UserState, type LinkState, type Prediction } from './user-state.ts'
import { coerceTrait, type TraitValue } from './custom-traits.ts'

/**
 * A user's state as checkpointed. Metrics and segments are stored by canonical text and name, not
 * by index, so a checkpoint survives rules being added, removed or reordered: unknown entries are
 * dropped, new ones start empty.
 */
interface UserSnapshot {
  k: string
  t: string
  u: string
  fs: number | null
  ls: number | null
  ec: number
  /** total_purchases: whole millionths from version 2 on, a float total before. */
  tp: number
  p: Partial<Record<ProfileProperty, string>>
  /** Event time of each profile value (version 2). */
  pa?: Partial<Record<ProfileProperty, number>>
  /** Declared traits (rules file `traits:`) and each value's event time; absent when none is set. */
  ct?: Record<string, TraitValue>
  cta?: Record<string, number>
  /**
   * The latest prediction (predicted-traits.ts): purchase_7d, churn_7d, wealth_30d, model_version,
   * scored_at. Absent when the user has none, and in snapshots written before predictions.
   */
  pr?: [number | null, number | null, number | null, string | null, number]
  /** An absorbed id's redirect to its person (identity merges); absent otherwise. */
  rd?: string
  /** Seen only anonymously (identity merges); absent for a user id and in older snapshots. */
  an?: 1
  /**
   * A person's linked ids and each link's state (0 pending, 1 linked, 2 refused), in link order:
   * id, state, id, state… A list, not an object keyed by id: see linkList.
   */
  lk?: Array<string | number>
  /** The same as an object keyed by id: snapshots written before lk; read, never written. */
  ln?: Record<string, number>
  /** Snapshot version: absent before the exact sums (2). */
  sv?: number
  c: Record<string, number>
  m: Record<string, MetricSnapshot>
  s: Record<string, [number, number | null]>
  v: number
  ta: number | null
  n?: boolean
}

const SNAPSHOT_VERSION = 2

export function encodeUser(u: UserState, rules: EngineRules): Buffer {
  const m: Record<string, MetricSnapshot> = {}
  u.metrics.forEach((state, i) => {
    if (state !== undefined) m[rules.metrics[i]!.spec.key] = state.snapshot()
  })
  const s: Record<string, [number, number | null]> = {}
  rules.compiled.segments.forEach((seg, i) => {
    if (u.isMember(i)) s[seg.name] = [u.since[i]!, Number.isNaN(u.falseSince[i]!) ? null : u.falseSince[i]!]
  })
  const snap: UserSnapshot = {
    k: u.key,
    t: u.tenant,
    u: u.userId,
    fs: Number.isFinite(u.firstSeen) ? u.firstSeen : null,
    ls: Number.isFinite(u.lastSeen) ? u.lastSeen : null,
    ec: u.eventCount,
    tp: u.purchaseMicros,
    p: u.profile,
    ...(u.profileAt === null ? {} : { pa: u.profileAt }),
    ...(u.custom === null ? {} : { ct: u.custom, cta: u.customAt ?? {} }),
    ...(u.predicted === null ? {} : { pr: predictionTuple(u.predicted) }),
    ...(u.redirectTo === null ? {} : { rd: u.redirectTo }),
    ...(u.anonymous ? { an: 1 as const } : {}),
    ...(u.links === null || u.links.size === 0 ? {} : { lk: linkList(u.links) }),
    sv: SNAPSHOT_VERSION,
    c: countsByName(u.counts),
    m,
    s,
    v: u.version,
    ta: u.timerAt === Infinity ? null : u.timerAt,
    ...(u.negative ? { n: true } : {}),
  }
  return pack(snap)
}

export function decodeUser(bytes: Uint8Array, rules: EngineRules): UserState {
  const snap = unpack(bytes) as UserSnapshot
  const u = new UserState(snap.k, snap.t, snap.u, rules.metrics.length, rules.compiled.segments.length)
  u.firstSeen = snap.fs ?? Infinity
  u.lastSeen = snap.ls ?? -Infinity
  u.eventCount = snap.ec
  u.purchaseMicros = snap.sv === SNAPSHOT_VERSION ? snap.tp : toMicros(snap.tp)
  u.profile = snap.p
  // Before version 2 a value's event time was not kept: it counts as seen at last_seen.
  u.profileAt = snap.pa ?? (snap.sv === SNAPSHOT_VERSION ? null : Object.fromEntries(Object.keys(snap.p).map((k) => [k, snap.ls ?? -Infinity])))
  // A trait no longer declared is dropped, like a metric no longer in the rules; one whose type
  // changed keeps its value only if the value is of the new type.
  if (snap.ct !== undefined) {
    for (const [name, raw] of Object.entries(snap.ct)) {
      const t = rules.traitsByName.get(name)
      const at = snap.cta?.[name]
      const value = t?.kind === 'property' ? coerceTrait(t.type, raw) : null
      if (value !== null && at !== undefined) u.setCustom(name, value, at)
    }
  }
  if (snap.pr !== undefined) u.predicted = predictionOf(snap.pr)
  for (const [name, n] of Object.entries(snap.c)) u.counts[eventNameId(name)] = n
  u.version = snap.v
  u.timerAt = snap.ta ?? Infinity
  u.negative = snap.n === true
  u.redirectTo = snap.rd ?? null
  u.anonymous = snap.an === 1
  const links = snap.lk !== undefined ? linkPairs(snap.lk) : snap.ln !== undefined ? Object.entries(snap.ln) : []
  if (links.length > 0) u.links = new Map(links.filter((e): e is [string, LinkState] => e[1] === 0 || e[1] === 1 || e[1] === 2))
  rules.metrics.forEach((pm, i) => {
    const ms = snap.m[pm.spec.key]
    if (ms === undefined) return
    const restored = pm.shape === null ? (ms.kind === 'l' ? LifetimeMetric.restore(ms, pm.spec.agg) : null) : ms.kind === 'w' ? WindowedMetric.restore(ms, pm.spec.agg, pm.shape) : null
    if (restored) u.metrics[i] = restored
  })
  rules.compiled.segments.forEach((seg, i) => {
    const entry = snap.s[seg.name]
    if (entry === undefined) return
    u.since[i] = entry[0]
    u.falseSince[i] = entry[1] ?? NaN
  })
  return u
}

function predictionTuple(p: Prediction): NonNullable<UserSnapshot['pr']> {
  return [p.purchase_7d, p.churn_7d, p.wealth_30d, p.model_version, p.scored_at]
}

/** Checked field by field, like a window's snapshot: a damaged entry restores as no prediction. */
function predictionOf(t: unknown): Prediction | null {
  if (!Array.isArray(t) || t.length !== 5) return null
  const [purchase, churn, wealth, version, at] = t as unknown[]
  const score = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null)
  if (typeof at !== 'number' || !Number.isFinite(at)) return null
  return { purchase_7d: score(purchase), churn_7d: score(churn), wealth_30d: score(wealth), model_version: typeof version === 'string' ? version : null, scored_at: at }
}

/**
 * Links as a flat list. Ids are what clients send, unbounded in number: as the keys of objects
 * (made by Object.fromEntries here, by msgpackr's unpack there) each new one adds a transition to
 * V8's shared tree of object shapes, and past its limit (about 1,500) every object the thread then
 * builds key by key gets shapes of its own, allocated in the old generation. That made every
 * profile read allocate new shapes and scavenges take 10–18 ms (issue 18's lookup p99).
 */
function linkList(links: ReadonlyMap<string, LinkState>): Array<string | number> {
  const out: Array<string | number> = []
  for (const [id, state] of links) out.push(id, state)
  return out
}

function linkPairs(list: ReadonlyArray<string | number>): Array<[string, unknown]> {
  const out: Array<[string, unknown]> = []
  for (let i = 0; i + 1 < list.length; i += 2) if (typeof list[i] === 'string') out.push([list[i] as string, list[i + 1]])
  return out
}

function countsByName(counts: readonly number[]): Record<string, number> {
  // In name order, not id order: ids are interned per process in first-seen order, and a worker
  // taking a partition over must write the same bytes for the same state as its previous owner.
  const named: Array<[string, number]> = []
  counts.forEach((n, id) => {
    if (n !== undefined) named.push([eventNameOf(id), n])
  })
  named.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
  return Object.fromEntries(named)
}
