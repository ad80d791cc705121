import { readFileSync } from 'node:fs'
import type { EngineOptions } from './engine-options.ts'
import { windowShape, type WindowShape } from '../rules/window-shape.ts'
import {
  compileRules,
  effectiveStreams,
  parseRulesYaml,
  type StreamDefinition,
  type CompiledRules,
  type CompiledTrait,
  type CompiledTrigger,
  type MetricSpec,
  type RuleEnv,
  type RulesDefinition,
} from '../rules/index.ts'
import { pathReader } from '../rules/read-path.ts'
import { slideOnlyExits, timeCannotRaise } from './monotonic.ts'
import { timeDependence, type TimeDependence } from './time-thresholds.ts'
import { preparePropertyTraits, type PreparedTrait } from './custom-traits.ts'

export interface PreparedMetric {
  spec: MetricSpec
  /** Window ring shape, or null for a lifetime aggregate. */
  shape: WindowShape | null
  read: ((props: Readonly<Record<string, unknown>>) => unknown) | null
}

/** Compiled rules plus the lookup tables the hot path needs, built once per rules version. */
export interface EngineRules {
  definition: RulesDefinition
  compiled: CompiledRules
  metrics: PreparedMetric[]
  metricsByEvent: Map<string, PreparedMetric[]>
  triggersByEvent: Map<string, CompiledTrigger[]>
  /** Per segment: since()/is_new thresholds that flip the rule with no event. */
  timeDeps: TimeDependence[]
  /** Per segment: its windowed metrics, whose slide-out times become timers. */
  segmentWindows: number[][]
  /** Per segment: sliding can only take users out, so non-members need no slide timer. */
  slideOnlyExits: boolean[]
  /**
   * Per segment: the tests of the parts of its `and` chain that time alone cannot make true (./monotonic.ts,
   * timeCannotRaise). One false for a non-member: no timer of that segment can let them in before their next event.
   */
  entryGates: Array<Array<(env: RuleEnv) => boolean>>
  purchaseEvents: ReadonlySet<string>
  /** The event streams in effect (the defaults and the file's `streams:`; docs/streams.md). */
  streams: StreamDefinition[]
  /** Per event name, the streams it is copied to; `streamsForAll`: the streams of every event (`events: "*"`). */
  streamsByEvent: Map<string, string[]>
  streamsForAll: string[]
  /** Declared property traits, each with the events it is read from (null: every event). */
  propertyTraits: Array<PreparedTrait & { from: ReadonlySet<string> | null }>
  /** Every declared trait by name (profiles, searches, since() timers). */
  traitsByName: ReadonlyMap<string, CompiledTrait>
  /**
   * No timer can matter for a user who is in no segment: every rule only loses users as windows
   * slide and nothing depends on since()/is_new. (Events held ahead of the watermark wait in the
   * partition's buffer, not in users' timers.)
   */
  quiet: boolean
}

export function prepareRules(definition: RulesDefinition, options: EngineOptions): EngineRules {
  const compiled = compileRules(definition)
  const metrics = compiled.metrics.map((spec) => ({
    spec,
    shape: spec.windowMs === null ? null : windowShape(spec.windowMs, options.bucketsPerWindow),
    read: spec.field ? pathReader(spec.field) : null,
  }))
  const metricsByEvent = new Map<string, PreparedMetric[]>()
  for (const m of metrics) {
    const list = metricsByEvent.get(m.spec.event) ?? []
    list.push(m)
    metricsByEvent.set(m.spec.event, list)
  }
  const triggersByEvent = new Map<string, CompiledTrigger[]>()
  for (const t of compiled.triggers) {
    const list = triggersByEvent.get(t.on) ?? []
    list.push(t)
    triggersByEvent.set(t.on, list)
  }
  const timeDeps = definition.segments.map((s) => timeDependence(s.when, options.newUserMs))
  const propertyTraits = preparePropertyTraits(compiled.traits)
  const monotone = definition.segments.map((s) => slideOnlyExits(s.when))
  const streams = effectiveStreams(definition.streams)
  const streamsByEvent = new Map<string, string[]>()
  for (const s of streams) {
    if (s.events === '*') continue
    for (const event of s.events) streamsByEvent.set(event, [...(streamsByEvent.get(event) ?? []), s.name])
  }
  return {
    definition,
    compiled,
    metrics,
    metricsByEvent,
    triggersByEvent,
    timeDeps,
    segmentWindows: compiled.segments.map((s) => s.metrics.filter((i) => metrics[i]!.shape !== null)),
    slideOnlyExits: monotone,
    entryGates: compiled.segments.map((s) => s.conjuncts.filter((c) => timeCannotRaise(c.expr)).map((c) => c.test)),
    purchaseEvents: new Set(options.purchaseEvents),
    streams,
    streamsByEvent,
    streamsForAll: streams.filter((s) => s.events === '*').map((s) => s.name),
    propertyTraits,
    traitsByName: new Map(compiled.traits.map((t) => [t.name, t])),
    quiet: monotone.every(Boolean) && timeDeps.every((d) => d.thresholds.length === 0 && !d.needsPolling),
  }
}

export function loadEngineRules(path: string, options: EngineOptions): EngineRules {
  return prepareRules(parseRulesYaml(readFileSync(path, 'utf8'), path), options)
}
