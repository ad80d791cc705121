/**
 * The reference's own structured form of a rules file. Workloads are generated in this form, printed
 * to YAML for the engine, and evaluated from this form by the reference: the reference never sees
 * the engine's parser output or compiled closures, so a parser or compiler bug shows up as a
 * disagreement instead of being shared by both sides.
 */

export type AggFn = 'count' | 'sum' | 'min' | 'max' | 'avg' | 'distinct'
export type CmpOp = '=' | '!=' | '<' | '<=' | '>' | '>='
export type PredictedTrait = 'predicted.purchase_7d' | 'predicted.churn_7d' | 'predicted.wealth_30d' | 'predicted.model_version' | 'predicted.scored_at'
export type TraitName = 'first_seen' | 'last_seen' | 'is_new' | 'total_purchases' | 'event_count' | 'country' | 'language' | 'user_agent' | 'referrer' | 'host' | PredictedTrait
export type TimestampTrait = 'first_seen' | 'last_seen' | 'predicted.scored_at'
export type Scalar = string | number | boolean

export interface AggSpec {
  fn: AggFn
  event: string
  /** Property path; null exactly for count. */
  field: readonly string[] | null
  filter: Cond | null
  /** null = lifetime. */
  windowMs: number | null
}

/** A value in a condition. `prop` is a property of the event in scope (inside `where`, or a trigger's event). */
export type Term =
  | { kind: 'agg'; agg: AggSpec }
  | { kind: 'trait'; name: TraitName }
  | { kind: 'since'; trait: TimestampTrait }
  | { kind: 'prop'; path: readonly string[] }
  | { kind: 'number'; value: number }
  | { kind: 'duration'; ms: number }
  | { kind: 'string'; value: string }
  | { kind: 'boolean'; value: boolean }

export type Literal = Extract<Term, { kind: 'number' | 'duration' | 'string' | 'boolean' }>

export type Cond =
  | { kind: 'and' | 'or'; left: Cond; right: Cond }
  | { kind: 'not'; operand: Cond }
  | { kind: 'cmp'; op: CmpOp; left: Term; right: Term }
  | { kind: 'in'; operand: Term; values: readonly Literal[]; negated: boolean }
  /** A bare value standing as a condition (`is_new`): holds only when it is exactly `true`. */
  | { kind: 'is'; operand: Term }

export interface SegmentSpec {
  name: string
  when: Cond
  keepMs: number
}

export interface TriggerSpec {
  name: string
  on: string
  when: Cond | null
  emit: string
}

export interface RuleSet {
  segments: readonly SegmentSpec[]
  triggers: readonly TriggerSpec[]
}

// ---------------------------------------------------------------------------------------------
// Printing. The canonical form is documented in segments.md only by example (`count(spin, 2h)`,
// `sum(in_app_purchase.amount, 2h)`); values in output records are keyed by it, so the reference
// needs its own printer. Rules sent to the engine use the same text, except where `style` varies the
// spelling on purpose (== for =, 120m for 2h), which must not change any key.

export interface PrintStyle {
  /** Write `==` instead of `=`. */
  doubleEquals: boolean
  /** Write windows and durations in seconds (`7200s`) instead of the largest exact unit. */
  seconds: boolean
}

const CANONICAL: PrintStyle = { doubleEquals: false, seconds: false }
const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/
const KEYWORDS = new Set(['and', 'or', 'not', 'in', 'where', 'true', 'false'])
const UNITS: ReadonlyArray<readonly [string, number]> = [
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1_000],
]

export function formatMs(ms: number, style: PrintStyle = CANONICAL): string {
  if (style.seconds && ms % 1000 === 0) return `${ms / 1000}s`
  for (const [unit, size] of UNITS) if (ms !== 0 && ms % size === 0) return `${ms / size}${unit}`
  throw new Error(`not a whole-second duration: ${ms}`)
}

/** `count(spin, 2h)`: the key of an aggregate in `values`. */
export function aggKey(a: AggSpec, style: PrintStyle = CANONICAL): string {
  let s = IDENT.test(a.event) && !KEYWORDS.has(a.event.toLowerCase()) ? a.event : JSON.stringify(a.event)
  if (a.field) s += `.${a.field.join('.')}`
  if (a.filter) s += ` where ${printCond(a.filter, style)}`
  if (a.windowMs !== null) s += `, ${formatMs(a.windowMs, style)}`
  return `${a.fn}(${s})`
}

const LEVEL = { or: 1, and: 2, not: 3, cmp: 4 } as const

export function printCond(c: Cond, style: PrintStyle = CANONICAL, parent = 0): string {
  const [level, text] = render(c, style)
  return level < parent ? `(${text})` : text
}

function render(c: Cond, style: PrintStyle): [number, string] {
  switch (c.kind) {
    case 'or':
    case 'and':
      return [LEVEL[c.kind], `${printCond(c.left, style, LEVEL[c.kind])} ${c.kind} ${printCond(c.right, style, LEVEL[c.kind])}`]
    case 'not':
      return [LEVEL.not, `not ${printCond(c.operand, style, LEVEL.not)}`]
    case 'cmp': {
      const op = c.op === '=' && style.doubleEquals ? '==' : c.op
      return [LEVEL.cmp, `${printTerm(c.left, style)} ${op} ${printTerm(c.right, style)}`]
    }
    case 'in':
      return [LEVEL.cmp, `${printTerm(c.operand, style)} ${c.negated ? 'not in' : 'in'} [${c.values.map((v) => printTerm(v, style)).join(', ')}]`]
    case 'is':
      return [LEVEL.cmp + 1, printTerm(c.operand, style)]
  }
}

export function printTerm(t: Term, style: PrintStyle = CANONICAL): string {
  switch (t.kind) {
    case 'agg':
      return aggKey(t.agg, style)
    case 'trait':
      return t.name
    case 'since':
      return `since(${t.trait})`
    case 'prop':
      return t.path.join('.')
    case 'number':
      return String(t.value)
    case 'duration':
      return formatMs(t.ms, style)
    case 'string':
      return JSON.stringify(t.value)
    case 'boolean':
      return String(t.value)
  }
}

/** The rules file the engine reads. Expressions are single-quoted YAML scalars: they only use double quotes. */
export function rulesYaml(rules: RuleSet, style: PrintStyle = CANONICAL): string {
  const q = (s: string) => `'${s.replaceAll("'", "''")}'`
  const lines: string[] = []
  if (rules.segments.length > 0) lines.push('segments:')
  for (const s of rules.segments) {
    lines.push(`  ${s.name}:`, `    when: ${q(printCond(s.when, style))}`)
    if (s.keepMs > 0) lines.push(`    keep: ${formatMs(s.keepMs, style)}`)
  }
  if (rules.triggers.length > 0) lines.push('triggers:')
  for (const t of rules.triggers) {
    lines.push(`  ${t.name}:`, `    on: ${q(t.on)}`)
    if (t.when) lines.push(`    when: ${q(printCond(t.when, style))}`)
    lines.push(`    emit: ${t.emit}`)
  }
  return lines.join('\n') + '\n'
}

/** Every aggregate in a condition (not inside filters: they cannot hold any), by key, first seen first. */
export function aggregatesOf(c: Cond | null, out: Map<string, AggSpec> = new Map()): Map<string, AggSpec> {
  if (c === null) return out
  const term = (t: Term) => {
    if (t.kind === 'agg') out.set(aggKey(t.agg), t.agg)
  }
  switch (c.kind) {
    case 'and':
    case 'or':
      aggregatesOf(c.left, out)
      aggregatesOf(c.right, out)
      break
    case 'not':
      aggregatesOf(c.operand, out)
      break
    case 'cmp':
      term(c.left)
      term(c.right)
      break
    case 'in':
    case 'is':
      term(c.operand)
      break
  }
  return out
}

/** Every comparison of since(trait) with a constant: each one flips at trait + constant (or 1 ms later). */
export function sinceThresholds(c: Cond, out: Array<{ trait: TimestampTrait; ms: number }> = []): typeof out {
  switch (c.kind) {
    case 'and':
    case 'or':
      sinceThresholds(c.left, out)
      sinceThresholds(c.right, out)
      break
    case 'not':
      sinceThresholds(c.operand, out)
      break
    case 'cmp': {
      const [since, other] = c.left.kind === 'since' ? [c.left, c.right] : [c.right, c.left]
      if (since.kind !== 'since') break
      if (other.kind !== 'number' && other.kind !== 'duration') throw new Error('since() compared with a non-constant is polled; the reference does not model it')
      out.push({ trait: since.trait, ms: other.kind === 'number' ? other.value : other.ms })
      break
    }
    default:
      break
  }
  return out
}
