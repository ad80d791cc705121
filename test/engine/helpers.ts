import { engineOptions, type EngineOptions } from '../../src/engine/engine-options.ts'
import { prepareRules, type EngineRules } from '../../src/engine/engine-rules.ts'
import { PartitionEngine } from '../../src/engine/partition-engine.ts'
import type { SegmentChange } from '../../src/engine/records.ts'
import { parseRulesYaml } from '../../src/rules/index.ts'
import type { TrackedEvent } from '../../src/events/envelope.ts'

export const T0 = Date.UTC(2026, 10, 1, 10)
export const MIN = 60_000
export const HOUR = 60 * MIN
export const DAY = 24 * HOUR

let seq = 0
export function ev(event: string, user: string, ts: number, properties: Record<string, unknown> = {}): TrackedEvent {
  return { event, user_id: user, ts, event_id: `e${seq++}`, tenant: 'default', received_at: ts, properties: properties as TrackedEvent['properties'] }
}

export function rules(yaml: string, options: Partial<EngineOptions> = {}): { rules: EngineRules; options: EngineOptions } {
  const o = engineOptions(options)
  return { rules: prepareRules(parseRulesYaml(yaml), o), options: o }
}

export function engine(yaml: string, options: Partial<EngineOptions> = {}): PartitionEngine {
  const r = rules(yaml, options)
  return new PartitionEngine(r.rules, r.options)
}

/** Changes as compact tuples: [user, segment, change, minutes after T0]. */
export function changes(e: PartitionEngine): Array<[string, string, string, number]> {
  return e.drainOutputs().changes.map((c: SegmentChange) => [c.user_id, c.segment, c.change, (c.at - T0) / MIN])
}
