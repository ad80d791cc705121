/*
 * How collectors store events in the `events` log (docs/kafka.md, "Record formats"): the JSON
 * envelope of docs/events.md, which Kafka's console consumer, kafkajs and every other consumer can
 * read, or the older binary envelope (./codec.ts). One setting chooses what is written; every reader
 * reads both forever, told apart by the first byte (0x01 binary, `{` JSON), so a log may hold both.
 */

export const EVENTS_FORMATS = ['json', 'binary'] as const
export type EventsFormat = (typeof EVENTS_FORMATS)[number]

/** JSON by default: readable by any consumer; the measured cost is in BENCHMARKS.md ("Events format"). */
export const DEFAULT_EVENTS_FORMAT: EventsFormat = 'json'

/**
 * The reserved fields a stored JSON event carries beyond what a client sends: the collector's
 * receive time (epoch ms), and `true` when the server assigned event_id (the client sent none; the
 * dedupe horizon skips such ids, src/ingest/dedupe-restore.ts). A record with `received_at` is a
 * *stored* event: one a collector already validated, read as the binary envelope is read.
 */
export const RECEIVED_AT = 'received_at'
export const ID_ASSIGNED = 'id_assigned'
