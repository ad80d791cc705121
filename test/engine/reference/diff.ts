/**
 * Comparing the engine with the reference: the first differing record, a shrinker that drops events
 * and rules while that difference persists, and a report a person can read.
 */
import type { RefChange, RefNotification } from './reference-engine.ts'
import { rulesYaml, type Cond } from './rule-model.ts'
import { runEngine, runReference, type Outcome } from './run.ts'
import { BASE, type Input, type Workload } from './workload.ts'

export type Stream = 'segment-changes' | 'notifications' | 'late' | 'lateDropped' | 'predictions' | 'predictionsDropped' | 'members' | 'engine threw'

export interface Mismatch {
  partition: number
  stream: Stream
  /** Position in the stream (segment index for members). */
  index: number
  reference: unknown
  engine: unknown
  /** `tenant:user_id` the difference is about, when there is one. */
  user: string | null
}

/** JSON with every object's keys sorted, so equal records print the same whatever their key order. */
export function stableJson(x: unknown): string {
  if (Array.isArray(x)) return `[${x.map(stableJson).join(',')}]`
  if (typeof x === 'object' && x !== null) {
    const entries = Object.entries(x as Record<string, unknown>).filter(([, v]) => v !== undefined)
    return `{${sortedEntries(entries)
      .map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`)
      .join(',')}}`
  }
  return JSON.stringify(x)
}

function sortedEntries<T>(entries: Array<[string, T]>): Array<[string, T]> {
  return entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
}

/** The fields the docs define (an engine may add more, e.g. internal ones, without failing). */
function changeRecord(c: RefChange): string {
  const { segment, tenant, user_id, change, at, values, version } = c
  return stableJson({ segment, tenant, user_id, change, at, values, version })
}

function notificationRecord(n: RefNotification): string {
  const { trigger, emit, tenant, user_id, event, event_id, at, values, properties } = n
  return stableJson({ trigger, emit, tenant, user_id, event, event_id, at, values, properties })
}

function sorted<T>(o: Record<string, T>): Record<string, T> {
  return Object.fromEntries(sortedEntries(Object.entries(o)))
}

function firstDifference<T extends { tenant: string; user_id: string }>(a: readonly T[], b: readonly T[], show: (r: T) => string) {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i]
    const y = b[i]
    if (x !== undefined && y !== undefined && show(x) === show(y)) continue
    const about = x ?? y
    return { index: i, reference: x ?? 'nothing', engine: y ?? 'nothing', user: about ? `${about.tenant}:${about.user_id}` : null }
  }
  return null
}

export function compareOutcomes(reference: Outcome, engine: Outcome): Mismatch | null {
  for (let p = 0; p < reference.length; p++) {
    const r = reference[p]!
    const e = engine[p]!
    const changes = firstDifference(r.changes, e.changes, changeRecord)
    if (changes) return { partition: p, stream: 'segment-changes', ...changes }
    const notes = firstDifference(r.notifications, e.notifications, notificationRecord)
    if (notes) return { partition: p, stream: 'notifications', ...notes }
    for (const stat of ['late', 'lateDropped', 'predictions', 'predictionsDropped'] as const) {
      if (r[stat] !== e[stat]) return { partition: p, stream: stat, index: 0, reference: r[stat], engine: e[stat], user: null }
    }
    for (let s = 0; s < r.members.length; s++) {
      const a = r.members[s]!
      const b = e.members[s] ?? []
      if (a.join() !== b.join()) {
        const user = a.find((u) => !b.includes(u)) ?? b.find((u) => !a.includes(u)) ?? null
        return { partition: p, stream: 'members', index: s, reference: a, engine: b, user }
      }
    }
  }
  return null
}

/** Runs both sides; an exception in the engine is a mismatch too (the reference must never throw). */
export function check(w: Workload): Mismatch | null {
  const reference = runReference(w)
  let engine: Outcome
  try {
    engine = runEngine(w)
  } catch (err) {
    return { partition: -1, stream: 'engine threw', index: 0, reference: 'no exception', engine: String((err as Error).stack ?? err), user: null }
  }
  return compareOutcomes(reference, engine)
}

/** Smaller conditions than `c`: one side of an and/or, or `c` with one part made smaller. */
function simpler(c: Cond): Cond[] {
  switch (c.kind) {
    case 'and':
    case 'or':
      return [c.left, c.right, ...simpler(c.left).map((left) => ({ ...c, left })), ...simpler(c.right).map((right) => ({ ...c, right }))]
    case 'not':
      return simpler(c.operand).map((operand) => ({ ...c, operand }))
    default:
      return []
  }
}

/**
 * Drops rules, then chunks of inputs, then single inputs, then parts of conditions and event
 * properties, as long as a difference in the same stream remains: a few events out of a few dozen
 * are usually enough to show a bug.
 */
export function shrink(w: Workload, first: Mismatch, budget = 4000): Workload {
  let best = w
  let tries = 0
  const stillFails = (candidate: Workload) => {
    tries++
    const m = check(candidate)
    return m !== null && m.stream === first.stream
  }
  /** Tries the candidates in order and keeps the first that still fails. */
  const attempt = (candidates: Workload[]): boolean => {
    for (const c of candidates) {
      if (tries >= budget) return false
      if (stillFails(c)) {
        best = c
        return true
      }
    }
    return false
  }
  let progress = true
  while (progress && tries < budget) {
    progress = false
    for (let i = 0; i < best.rules.segments.length && best.rules.segments.length + best.rules.triggers.length > 1; i++) {
      const rules = { ...best.rules, segments: best.rules.segments.filter((_, j) => j !== i) }
      if (stillFails({ ...best, rules })) {
        best = { ...best, rules }
        progress = true
        i--
      }
    }
    for (let i = 0; i < best.rules.triggers.length && best.rules.segments.length + best.rules.triggers.length > 1; i++) {
      const rules = { ...best.rules, triggers: best.rules.triggers.filter((_, j) => j !== i) }
      if (stillFails({ ...best, rules })) {
        best = { ...best, rules }
        progress = true
        i--
      }
    }
    for (let chunk = Math.max(1, best.inputs.length >> 1); chunk >= 1 && tries < budget; chunk >>= 1) {
      for (let start = 0; start < best.inputs.length && tries < budget;) {
        const inputs = [...best.inputs.slice(0, start), ...best.inputs.slice(start + chunk)]
        if (inputs.length < best.inputs.length && stillFails({ ...best, inputs })) {
          best = { ...best, inputs }
          progress = true
        } else start += chunk
      }
    }
    if (best.partitions > 1 && stillFails({ ...best, partitions: 1 })) {
      best = { ...best, partitions: 1 }
      progress = true
    }
    for (let i = 0; i < best.rules.segments.length; i++) {
      while (attempt(simpler(best.rules.segments[i]!.when).map((when) => ({ ...best, rules: { ...best.rules, segments: best.rules.segments.map((s, j) => (j === i ? { ...s, when } : s)) } }))))
        progress = true
    }
    for (let i = 0; i < best.inputs.length; i++) {
      const input = best.inputs[i]!
      if (input.kind !== 'event') continue
      for (const key of Object.keys(input.event.properties)) {
        const { [key]: _dropped, ...properties } = input.event.properties
        const inputs = best.inputs.map((x, j): Input => (j === i ? { kind: 'event', event: { ...input.event, properties } } : x))
        if (attempt([{ ...best, inputs }])) {
          progress = true
          break
        }
      }
    }
  }
  return best
}

/** Times in a report are relative to BASE: `+10000` is 10 s after it, and bucket boundaries are round. */
export function rel(t: number): string {
  if (!Number.isFinite(t)) return String(t)
  const d = t - BASE
  return d >= 0 ? `+${d}` : `${d}`
}

function showRecord(r: unknown): string {
  if (typeof r !== 'object' || r === null || Array.isArray(r)) return JSON.stringify(r)
  const o = { ...(r as Record<string, unknown>) }
  if (typeof o.at === 'number') o.at = `BASE${rel(o.at)}`
  if (o.values && typeof o.values === 'object') o.values = sorted(o.values as Record<string, unknown>)
  return JSON.stringify(o)
}

export function showInput(input: Input, index: number, partitions: number, partitionOf: (i: Input) => number | null): string {
  if (input.kind === 'clock') {
    const where = input.partition === null ? 'every partition' : `partition ${input.partition % partitions}`
    return `  #${index} clock record W=${rel(input.t)} (${where})`
  }
  const e = input.event
  return `  #${index} ${rel(e.ts).padStart(8)} ${e.tenant}:${e.user_id} ${e.event} ${JSON.stringify(e.properties)} [partition ${partitionOf(input)}]`
}

export function report(original: Workload, w: Workload, m: Mismatch, partitionOf: (i: Input) => number | null): string {
  const o = w.options
  const lines = [
    `workload ${w.name}: ${original.inputs.length} inputs, shrunk to ${w.inputs.length}`,
    `partitions ${w.partitions}, allowedLatenessMs ${o.allowedLatenessMs}, bucketsPerWindow ${o.bucketsPerWindow}, newUserMs ${o.newUserMs}${o.maxHeldEvents === undefined ? '' : `, maxHeldEvents ${o.maxHeldEvents}`}${w.asOf === undefined ? '' : `, as-of ${rel(w.asOf)}`}, BASE = ${BASE}`,
    'rules:',
    rulesYaml(w.rules, w.style).trimEnd().replace(/^/gm, '  '),
    `first difference: partition ${m.partition}, ${m.stream}[${m.index}]${m.user ? ` (user ${m.user})` : ''}`,
    `  reference: ${showRecord(m.reference)}`,
    `  engine:    ${showRecord(m.engine)}`,
    `inputs in log order (event time after BASE, user, event, properties)${m.user ? `, * = ${m.user}` : ''}:`,
    ...w.inputs.map((input, i) => {
      const mine = input.kind === 'event' && `${input.event.tenant}:${input.event.user_id}` === m.user
      return `${mine ? '*' : ' '}${showInput(input, i, w.partitions, partitionOf)}`
    }),
  ]
  return lines.join('\n')
}
