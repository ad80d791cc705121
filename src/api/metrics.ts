import { PredictionMetrics } from './predictions/run-metrics.ts'
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import { ProgressGauges } from '../engine/progress-metrics.ts'
import { warehouseSinkCounts } from '../warehouse/thread/sink-counts.ts'
import { skippedStreamRecords } from './streams/skipped.ts'
import { truncatedTexts } from '../ingest/text-bounds.ts'

/** The server's Prometheus metrics: one registry per server, so tests can run several. */
export class ApiMetrics {
  readonly registry = new Registry()
  readonly ingestEvents = new Counter({ name: 'tagstream_ingest_events_total', help: 'Events accepted into the log', labelNames: ['tenant'], registers: [this.registry] })
  readonly ingestBytes = new Counter({ name: 'tagstream_ingest_bytes_total', help: 'Request body bytes received by the collector (before gunzip)', registers: [this.registry] })
  readonly rejectedEvents = new Counter({ name: 'tagstream_rejected_events_total', help: 'Events rejected by validation (sent to dead letters)', labelNames: ['tenant'], registers: [this.registry] })
  readonly parsedEvents = new Counter({
    name: 'tagstream_collector_parsed_events_total',
    help: 'Events of POST /v1/events and /v1/track by how they were read: fast (straight from the bytes) or validated (JSON.parse + validation; the fast path declined them)',
    labelNames: ['path'],
    registers: [this.registry],
  })
  readonly duplicateEvents = new Counter({ name: 'tagstream_duplicate_events_total', help: 'Events dropped as duplicates by event_id', registers: [this.registry] })
  readonly outboxRelayed = new Counter({
    name: 'tagstream_game_outbox_relayed_total',
    help: 'Game events appended by the outbox relay (result="appended"), or found already in the log and dropped (result="already_appended")',
    labelNames: ['result'],
    registers: [this.registry],
  })
  readonly erasureJobs = new Gauge({
    name: 'tagstream_erasure_jobs',
    help: 'Erasure jobs of every tenant not done yet (status="accepted" or "erasing"), and the done ones whose tombstone still holds (status="tombstone"), as this server last read them',
    labelNames: ['status'],
    registers: [this.registry],
  })
  readonly erasureStepFailures = new Counter({
    name: 'tagstream_erasure_step_failures_total',
    help: 'Steps of erasure jobs that failed on this server (each is retried after a pause)',
    registers: [this.registry],
  })
  readonly inboxMessages = new Counter({
    name: 'tagstream_inbox_messages_total',
    help: 'Player notifications taken into players\' inboxes by this server (outcome="stored"), removed by the per-player cap (outcome="dropped"), or skipped as unusable records (outcome="skipped")',
    labelNames: ['outcome'],
    registers: [this.registry],
  })
  readonly inboxHeld = new Gauge({
    name: 'tagstream_inbox_undelivered_messages',
    help: "Undelivered messages in players' inboxes, all tenants, as of the last expiry pass (at start, then hourly)",
    registers: [this.registry],
  })
  /** The prediction runs this server ran (src/api/predictions/run-metrics.ts). */
  readonly predictions = new PredictionMetrics(this.registry)
  /** Seed 000's progress figures of the engine thread, as worker "engine" (src/engine/progress-metrics.ts). */
  readonly progress = new ProgressGauges(this.registry)
  readonly rejectedRequests = new Counter({ name: 'tagstream_rejected_requests_total', help: 'Requests answered with 4xx/5xx, by reason', labelNames: ['reason'], registers: [this.registry] })
  readonly throttled = new Counter({ name: 'tagstream_backpressure_total', help: 'Requests refused by backpressure (429/503)', labelNames: ['status'], registers: [this.registry] })
  readonly limitHits = new Counter({
    name: 'tagstream_limit_hits_total',
    help: 'Requests or values stopped by a resource limit (tenant in-flight share, body timeouts, stream caps, engine timeouts, truncated text), by limit',
    labelNames: ['limit'],
    registers: [this.registry],
  })
  readonly truncatedTexts = new Gauge({
    name: 'tagstream_truncated_texts',
    help: 'Client-controlled texts (error messages, dead-letter fields and reasons) cut to their bound since the process started',
    registers: [this.registry],
    collect() {
      this.set(truncatedTexts())
    },
  })
  readonly openStreams = new Gauge({ name: 'tagstream_open_streams', help: 'Open Server-Sent Event streams, by kind (sse, dashboard)', labelNames: ['kind'], registers: [this.registry] })
  readonly httpDuration = new Histogram({
    name: 'tagstream_http_request_duration_seconds',
    help: 'HTTP request duration',
    labelNames: ['route', 'method', 'status'],
    buckets: [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  })
  readonly lag = new Gauge({ name: 'tagstream_engine_lag_events', help: 'Events in the log not yet processed by the engine', labelNames: ['partition'], registers: [this.registry] })
  readonly processed = new Gauge({ name: 'tagstream_engine_processed_events', help: 'Events processed by the engine since its state began', registers: [this.registry] })
  readonly late = new Gauge({ name: 'tagstream_engine_late_events', help: 'Events older than the watermark on arrival', registers: [this.registry] })
  readonly identityLinks = new Gauge({
    name: 'tagstream_identity_links_total',
    help: "Identity links by result: linked (an id absorbed into a person) or refused (a user id, another person's id, or a person at its id limit)",
    labelNames: ['result'],
    registers: [this.registry],
  })
  readonly identityForwarded = new Gauge({ name: 'tagstream_identity_forwarded_events_total', help: "Events of absorbed ids handed to their person's partition", registers: [this.registry] })
  readonly lateDropped = new Gauge({ name: 'tagstream_engine_late_dropped_events', help: 'Late events too old for a window they belonged to', registers: [this.registry] })
  readonly engineThreadRestarts = new Counter({
    name: 'tagstream_engine_thread_restarts_total',
    help: 'Engine threads started again after the engine thread exited or crashed (serve restarts it by itself, with backoff)',
    registers: [this.registry],
  })
  readonly segmentSize = new Gauge({ name: 'tagstream_segment_members', help: 'Members per segment', labelNames: ['segment'], registers: [this.registry] })
  readonly poisonRecords = new Gauge({
    name: 'tagstream_engine_poison_records',
    help: 'Records of the events log the engine could not decode or apply, sent to the dead letters, since its state began (a gauge like tagstream_engine_processed_events: it is read from the checkpointed engine)',
    registers: [this.registry],
  })
  readonly segmentChanges = new Gauge({ name: 'tagstream_segment_changes', help: 'Segment entries and exits emitted', registers: [this.registry] })
  readonly notifications = new Gauge({ name: 'tagstream_notifications', help: 'Trigger notifications emitted', registers: [this.registry] })
  readonly webhookSkipped = new Counter({
    name: 'tagstream_webhook_skipped_records_total',
    help: 'Records of segment-changes / notifications a webhook dispatcher skipped because they are not JSON objects with the fields it needs, by stream',
    labelNames: ['stream'],
    registers: [this.registry],
  })
  readonly webhookDeliveries = new Counter({ name: 'tagstream_webhook_deliveries_total', help: 'Webhook POSTs by outcome', labelNames: ['outcome'], registers: [this.registry] })
  // The next three are counted where this registry is not at hand (the sink thread, stream sessions)
  // and copied from those counts on every scrape.
  readonly streamSkipped = new Counter({
    name: 'tagstream_stream_skipped_records_total',
    help: 'Records of segment-changes / notifications an SSE stream skipped because they are not JSON objects with the fields a client is promised, by stream (counted by every stream that read them)',
    labelNames: ['stream'],
    registers: [this.registry],
    collect() {
      this.reset()
      for (const [stream, n] of Object.entries(skippedStreamRecords())) this.inc({ stream }, n)
    },
  })
  readonly warehousePoison = new Counter({
    name: 'tagstream_warehouse_poison_records_total',
    help: 'Records the warehouse sink could not write (poison: skipped, sent to the dead letters), by stream (events, segment-changes, notifications)',
    labelNames: ['stream'],
    registers: [this.registry],
    collect() {
      this.reset()
      for (const [stream, n] of warehouseSinkCounts().poisonRecords) this.inc({ stream }, n)
    },
  })
  readonly warehouseTypeConflicts = new Counter({
    name: 'tagstream_warehouse_type_conflicts_total',
    help: 'Property columns of warehouse files written with values that did not fit the column type (those values kept in _rescued); one per file and column',
    registers: [this.registry],
    collect() {
      this.reset()
      this.inc(warehouseSinkCounts().typeConflicts)
    },
  })

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'tagstream_' })
  }
}
