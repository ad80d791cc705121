/**
 * Runs one workload through the real engine: one PartitionEngine per partition, each event to its
 * user's partition, a clock record as advanceTo(t), the end as advanceTo(end, true) everywhere.
 * The outcome has the reference's shape (run-reference.ts).
 */
import { engineOptions } from '../../../src/engine/engine-options.ts'
import { prepareRules } from '../../../src/engine/engine-rules.ts'
import { PartitionEngine } from '../../../src/engine/partition-engine.ts'
import { parseRulesYaml } from '../../../src/rules/index.ts'
import type { JsonValue, TrackedEvent } from '../../../src/events/envelope.ts'
import type { RefChange, RefEvent, RefNotification } from './reference-engine.ts'
import { rulesYaml } from './rule-model.ts'
import { partitionOf, targets, type Outcome } from './run-reference.ts'
import { endTime, readInputs, type Workload } from './workload.ts'

export { partitionOf, referenceReplay, runReference, type Outcome, type Tagged } from './run-reference.ts'

export function runEngine(w: Workload): Outcome {
  const options = engineOptions(w.options)
  const rules = prepareRules(parseRulesYaml(rulesYaml(w.rules, w.style), 'test.yaml'), options)
  const engines = Array.from({ length: w.partitions }, () => new PartitionEngine(rules, options))
  const out: Outcome = engines.map(() => ({ changes: [], notifications: [], late: 0, lateDropped: 0, predictions: 0, predictionsDropped: 0, members: [] }))
  const collect = (p: number) => {
    const { changes, notifications } = engines[p]!.drainOutputs()
    // Copies: the reference's records are plain data, and the engine may reuse its objects.
    out[p]!.changes.push(...changes.map((c): RefChange => ({ ...c, values: { ...c.values } })))
    out[p]!.notifications.push(...notifications.map((n): RefNotification => ({ ...n, values: { ...n.values } })))
  }
  for (const input of readInputs(w)) {
    if (input.kind === 'event') {
      const p = partitionOf(input.event, w.partitions)
      engines[p]!.process(trackedEvent(input.event))
      collect(p)
    } else {
      for (const p of targets(input.partition, w.partitions)) {
        engines[p]!.advanceTo(input.t)
        collect(p)
      }
    }
  }
  const end = endTime(w)
  engines.forEach((e, p) => {
    e.advanceTo(end, true)
    collect(p)
    out[p]!.late = e.stats.late
    out[p]!.lateDropped = e.stats.lateDropped
    out[p]!.predictions = e.stats.predictions
    out[p]!.predictionsDropped = e.stats.predictionsDropped
    out[p]!.members = w.rules.segments.map((_, i) =>
      e
        .members(i)
        .map((u) => `${u.tenant}:${u.userId}`)
        .sort(),
    )
  })
  return out
}

export function trackedEvent(e: RefEvent): TrackedEvent {
  return { ...e, received_at: e.ts, properties: e.properties as Record<string, JsonValue> }
}
