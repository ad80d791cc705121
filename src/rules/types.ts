import type { AggregateFn, Expr } from './ast.ts'
import type { ExprSource } from './errors.ts'
import type { EventFilter } from './compile-filter.ts'
import type { CompiledTrait, TraitDefinition } from './custom-traits.ts'
import type { MessageTemplate } from './message-template.ts'
import type { StreamDefinition } from './streams.ts'

/**
 * One per distinct aggregate anywhere in the rules, deduplicated by canonical text. The engine
 * keeps one sliding window (or lifetime accumulator) per user per MetricSpec.
 */
export interface MetricSpec {
  index: number
  /** Canonical text, e.g. `sum(in_app_purchase.amount, 2h)`: stable across reloads, unlike `index`. */
  key: string
  agg: AggregateFn
  event: string
  /** Path within the event's properties; null for count. */
  field: readonly string[] | null
  filter: EventFilter | null
  filterText: string | null
  /** null = lifetime. */
  windowMs: number | null
}

/** What the engine supplies when it evaluates a rule for one user. */
export interface RuleEnv {
  /** Event time, ms: the watermark or the event being processed, never the wall clock. */
  now: number
  /** Value of MetricSpec[index]; null when undefined (avg/min/max over nothing). count/sum of nothing are 0. */
  metric(index: number): number | null
  trait(name: string): string | number | boolean | null
  /** The triggering event's properties (trigger `when` only). */
  props?: Readonly<Record<string, unknown>> | undefined
}

export interface CompiledSegment {
  name: string
  /** The `when` as written. */
  text: string
  /** Hysteresis: how long the tag stays after the condition last held. 0 when not set. */
  keepMs: number
  test: (env: RuleEnv) => boolean
  /** Indexes into CompiledRules.metrics used by this segment, ascending. */
  metrics: number[]
  /** Trait names read, including those inside since(), sorted. */
  traits: string[]
  /** Longest window among `metrics`; null when none is windowed. */
  maxWindowMs: number | null
  /** True when the rule reads `now` (since()): its result can change with no event and no window sliding. */
  usesNow: boolean
  /** The parts of the rule's top-level `and` chain (the rule itself when it is not an `and`), each with its own test. */
  conjuncts: Array<{ expr: Expr; test: (env: RuleEnv) => boolean }>
}

export interface CompiledTrigger {
  name: string
  /** Event name that fires the trigger. */
  on: string
  text: string | null
  /** null = fire on every `on` event. */
  test: ((env: RuleEnv) => boolean) | null
  emit: string
  /** The message for the player (`message:`, else the description, else the name), from the triggering event. */
  message: MessageTemplate
  metrics: number[]
  traits: string[]
  usesNow: boolean
}

export interface CompiledRules {
  metrics: MetricSpec[]
  segments: CompiledSegment[]
  triggers: CompiledTrigger[]
  /** The rules file's declared traits, in the order written (computed ones point at their metric). */
  traits: CompiledTrait[]
}

export interface SegmentDefinition {
  name: string
  when: Expr
  /** The `when` as written; AST offsets point into it. */
  text: string
  keepMs: number
  description?: string | undefined
  /** For error positions found while compiling; defaults to positions within `text`. */
  source?: ExprSource | undefined
}

export interface TriggerDefinition {
  name: string
  on: string
  when: Expr | null
  text: string | null
  emit: string
  /** `message:` as written: a template of the triggering event's properties (message-template.ts). */
  message?: string | undefined
  description?: string | undefined
  source?: ExprSource | undefined
}

/** Parsed, validated rules: the input to compileRules and to any other back end (SQL backfill). */
export interface RulesDefinition {
  segments: SegmentDefinition[]
  triggers: TriggerDefinition[]
  /** Declared traits (`traits:`); absent when the file declares none. */
  traits?: TraitDefinition[] | undefined
  /** Event streams (`streams:`, streams.ts); absent when the file defines none. The server's file only. */
  streams?: StreamDefinition[] | undefined
}
