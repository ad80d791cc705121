import { Gauge, type Registry } from 'prom-client'
import type { ProgressLine } from './progress.ts'

/** Each figure of the progress line, its series name and help (docs/operations.md, "Progress lines"). */
const SERIES: ReadonlyArray<[keyof ProgressLine, string, string]> = [
  ['runtimeSeconds', 'tagstream_worker_runtime_seconds', "Seconds since the worker's engine started"],
  ['processedEvents', 'tagstream_worker_processed_events', 'Events the worker applied since it started'],
  ['eventsPerSecond', 'tagstream_worker_events_per_second', 'Processed events over runtime'],
  ['intervalEventsPerSecond', 'tagstream_worker_interval_events_per_second', 'Events per second over the last progress interval'],
  ['toggledUsers', 'tagstream_worker_toggled_users', 'Segment entries and exits in the last progress interval'],
  ['activeUsers', 'tagstream_worker_active_users', 'Users an event was applied to in the last progress interval'],
  ['taggedUsers', 'tagstream_worker_tagged_users', 'Users in at least one segment at the last progress line'],
  ['users', 'tagstream_worker_users', 'Users the worker held at the last progress line'],
]

/**
 * Seed 000's progress figures as Prometheus gauges, one series per worker (`worker` label): what
 * the `engine progress` / `worker progress` lines log, set at each line. `serve` reports its engine
 * thread as worker `engine`; a `tagstream worker` its id, on its own `/metrics`.
 */
export class ProgressGauges {
  private readonly gauges: Array<[keyof ProgressLine, Gauge]>

  constructor(registry: Registry) {
    this.gauges = SERIES.map(([field, name, help]) => [field, new Gauge({ name, help, labelNames: ['worker'], registers: [registry] })])
  }

  set(worker: string, line: ProgressLine): void {
    for (const [field, gauge] of this.gauges) gauge.set({ worker }, line[field])
  }
}
