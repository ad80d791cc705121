import { TOPICS, type EventLog } from '../../log/event-log.ts'
import { recordsInRange } from '../../log/read-range.ts'
import { decodeEngineRecord } from '../engine-record.ts'
import type { EngineRules } from '../engine-rules.ts'
import type { BackfillJob, BackfillProgress, HistorySource, RowVisitor } from './backfill-job.ts'

/**
 * History from the partition's own log: the records the warehouse does not hold yet (or all the log
 * still has, with no warehouse), decoded as the engine decodes them, with the aggregates' own
 * filters and readers. Engine records (clock, identity, rules) and poison are not history; nor is an
 * event of an id absorbed into a person elsewhere, as in the warehouse, which keeps it under its id.
 */
export class LogHistory implements HistorySource {
  readonly name = 'log'

  constructor(private readonly log: EventLog) {}

  async read(job: BackfillJob, rules: EngineRules, from: number, visit: RowVisitor, progress: BackfillProgress): Promise<number> {
    const { start } = await this.log.offsets(TOPICS.events, job.partition)
    // Retention dropped records the warehouse never got (it lagged, or it is off): said, not hidden.
    if (from < start && start < job.cut) progress.error ??= `log: offsets ${from} to ${start - 1} are in neither the warehouse nor the log (retention)`
    const wanted = new Map<string, number[]>()
    for (const i of job.metrics) {
      const event = rules.metrics[i]!.spec.event
      wanted.set(event, [...(wanted.get(event) ?? []), i])
    }
    for await (const r of recordsInRange(this.log, TOPICS.events, job.partition, Math.max(from, start), job.cut)) {
      const b = Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength)
      const d = decodeEngineRecord(b, 0, b.length, job.partition, r.offset, r.timestamp)
      if (d.kind !== 'event') continue
      const e = d.event
      if (e.tenant !== job.tenant || e.ts > job.at) continue
      const metrics = wanted.get(e.event)
      if (metrics === undefined) continue
      for (const i of metrics) {
        const m = rules.metrics[i]!
        if (m.spec.filter !== null && !m.spec.filter(e.properties)) continue
        visit(e.user_id, i, e.ts, m.read === null ? undefined : m.read(e.properties))
        progress.rows.log++
      }
    }
    return job.cut
  }
}
