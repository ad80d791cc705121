import { parseEventTime } from '../events/event-time.ts'
import { TRAIT_LIMITS, type AggregateFn, type CompiledTrait, type TraitType } from '../rules/index.ts'
import { pathReader } from '../rules/read-path.ts'
import { emptyValue, type MetricState } from './metrics/metric-state.ts'

export type TraitValue = string | number | boolean

/** A declared property trait with its reader, built once per rules version. */
export interface PreparedTrait {
  readonly name: string
  readonly type: TraitType
  readonly read: (props: Readonly<Record<string, unknown>>) => TraitValue | null
}

/** The declared property traits with their readers and the events each is read from (null: every event). */
export function preparePropertyTraits(traits: readonly CompiledTrait[]): Array<PreparedTrait & { from: ReadonlySet<string> | null }> {
  return traits.flatMap((t) => (t.kind === 'property' ? [{ name: t.name, type: t.type, from: t.from, read: pathReader(t.property) }] : []))
}

/**
 * A property's value as a trait of `type` (docs/segments.md, "Custom traits"), or null when it is
 * not one: strings up to 1,024 characters (a number becomes its decimal text, as ids often arrive
 * as numbers); numbers finite; booleans true/false; timestamps an ISO-8601 string or epoch
 * milliseconds, read as event times are. Null or a wrong type leaves the trait as it was.
 */
export function coerceTrait(type: TraitType, raw: TraitValue | null): TraitValue | null {
  if (raw === null) return null
  switch (type) {
    case 'string': {
      const s = typeof raw === 'number' ? String(raw) : raw
      return typeof s === 'string' && s.length <= TRAIT_LIMITS.stringLength ? s : null
    }
    case 'number':
      return typeof raw === 'number' ? raw : null
    case 'boolean':
      return typeof raw === 'boolean' ? raw : null
    case 'timestamp': {
      if (typeof raw === 'boolean') return null
      const t = parseEventTime(raw)
      return t.ok ? t.ms : null
    }
  }
}

/** A computed trait's value at time T without moving its window: 0 for count/sum of nothing, null for min/max/avg. */
export function metricValueAt(state: MetricState | undefined, agg: AggregateFn, T: number): number | null {
  if (state === undefined) return emptyValue(agg)
  return state.peek(T)
}
