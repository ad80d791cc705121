/**
 * One second of the server as the dashboard sees it, for one tenant. Rates are per second over
 * the sampling interval. Fields marked "server" cover every tenant (they come from counters and
 * the engine snapshot that carry no tenant, the same numbers /metrics shows).
 */
export interface LiveSample {
  /** Sample time, epoch ms. */
  t: number
  /** Events accepted into the log for this tenant. */
  events_per_sec: number
  /** Events of this tenant rejected by validation (sent to dead letters). */
  rejected_per_sec: number
  /** Server: request body bytes received by the collector (before gunzip). */
  bytes_per_sec: number
  /** Server: events dropped as duplicates by event_id. */
  duplicates_per_sec: number
  /** Server: events processed by the engine. */
  processed_per_sec: number
  /** Server: events in the log not yet processed, per partition. */
  lag: number[]
  /** This tenant's events accepted / rejected since the server started. */
  events_total: number
  rejected_total: number
  /** This tenant's members per segment (the sizes GET /v1/segments reports). */
  segments: Record<string, number>
}

/** The first frame of the live stream. */
export interface LiveHello {
  interval_ms: number
  partitions: number
  /** The retained samples, oldest first (up to `historySize`). */
  history: LiveSample[]
}
