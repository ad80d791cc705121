/** Runs one workload through the reference, partitioned as the engine is. */
import { partitionFor } from '../../../src/events/partition.ts'
import { ReferencePartition, type PartitionResult, type RefChange, type RefEvent, type RefNotification } from './reference-engine.ts'
import { endTime, readInputs, type Workload } from './workload.ts'

export type Outcome = PartitionResult[]

/** Routing is the live system's (Kafka's murmur2 of `tenant:user_id`), not engine semantics: both sides use it. */
export function partitionOf(e: Pick<RefEvent, 'tenant' | 'user_id'>, partitions: number): number {
  return partitionFor(`${e.tenant}:${e.user_id}`, partitions)
}

/** The partitions a clock record is written to. */
export function targets(partition: number | null, partitions: number): number[] {
  return partition === null ? Array.from({ length: partitions }, (_, p) => p) : [partition % partitions]
}

export function runReference(w: Workload): Outcome {
  const parts = Array.from({ length: w.partitions }, () => new ReferencePartition(w.rules, w.options))
  for (const input of readInputs(w)) {
    if (input.kind === 'event') parts[partitionOf(input.event, w.partitions)]!.process(input.event)
    else for (const p of targets(input.partition, w.partitions)) parts[p]!.advanceTo(input.t, false)
  }
  const end = endTime(w)
  for (const p of parts) p.advanceTo(end, true)
  return parts.map((p) => p.result())
}

export type Tagged = ({ type: 'segment' } & RefChange) | ({ type: 'notification' } & RefNotification)

/**
 * The reference run in the order docs/replay.md gives for `--changes`: for each line, the records
 * of that line's partition, segment changes first, then notifications; at the end partition 0's
 * records from moving to the end time, then partition 1's, and so on. Plus the summary counts.
 */
export function referenceReplay(w: Workload): { stream: Tagged[]; outcome: Outcome; events: number; skipped: number } {
  if (w.inputs.some((i) => i.kind === 'clock')) throw new Error('a replay has no clock records')
  const parts = Array.from({ length: w.partitions }, () => new ReferencePartition(w.rules, w.options))
  const stream: Tagged[] = []
  const emitted = parts.map(() => ({ changes: 0, notifications: 0 }))
  const take = (p: number) => {
    const part = parts[p]!
    const seen = emitted[p]!
    for (const c of part.changes.slice(seen.changes)) stream.push({ type: 'segment', ...c })
    for (const n of part.notifications.slice(seen.notifications)) stream.push({ type: 'notification', ...n })
    emitted[p] = { changes: part.changes.length, notifications: part.notifications.length }
  }
  const read = readInputs(w)
  for (const input of read) {
    if (input.kind !== 'event') continue
    const p = partitionOf(input.event, w.partitions)
    parts[p]!.process(input.event)
    take(p)
  }
  const end = endTime(w)
  parts.forEach((part, p) => {
    part.advanceTo(end, true)
    take(p)
  })
  return { stream, outcome: parts.map((p) => p.result()), events: read.length, skipped: w.inputs.length - read.length }
}
