/*
 * JSON records a third-party producer might write to the `events` topic (docs/kafka.md, "JSON
 * events from other producers"), shared by the tests of every reader — the decoder itself
 * (json-record.test.ts), the warehouse sink (test/warehouse/event-rows.test.ts, sink-poison.test.ts)
 * — so each holds its reading against the same records. Values only: what each becomes is the
 * engine's decision (decodeEngineRecord), which the tests compare against.
 */

/** The log timestamp the cases are written with: their receive time. */
export const JSON_LOG_TIME = Date.UTC(2026, 10, 5, 12)

export interface JsonRecordCase {
  note: string
  value: Buffer
  /** An event the engine processes (else poison). */
  event: boolean
  /** The engine processes it but a warehouse file cannot hold it (docs/warehouse-sink.md): poison for the sink. */
  sinkRefuses?: true
}

const json = (o: unknown): Buffer => Buffer.from(JSON.stringify(o))
const H = 3_600_000

export const JSON_RECORD_CASES: readonly JsonRecordCase[] = [
  { note: 'flat, ISO ts, no event_id', value: json({ event: 'purchase', user_id: '1', amount: 5, currency: 'EUR', ts: '2026-11-05T10:00:00Z' }), event: true },
  { note: 'a `properties` field is a property, tenant of its own', value: json({ event: 'purchase', user_id: 'u2', tenant: 'acme', event_id: 'j-2', properties: { amount: 5 } }), event: true },
  { note: 'integer user_id', value: json({ event: 'spin', user_id: 7, ts: JSON_LOG_TIME - 1_000, bet: 2.5 }), event: true },
  { note: 'received_at: a stored event, times as written', value: json({ event: 'spin', user_id: '7', received_at: 123, ts: 100, bet: 2.5 }), event: true },
  { note: 'id_assigned without received_at: refused as the collector refuses it', value: json({ event: 'spin', user_id: '7', id_assigned: true }), event: false },
  { note: 'stored event with a ts that is not a number', value: json({ event: 'spin', user_id: '7', received_at: 123, ts: '2026-11-05T10:00:00Z' }), event: false },
  { note: 'ts after the log time: clamped, original_ts kept', value: json({ event: 'spin', user_id: 'late', ts: JSON_LOG_TIME + H }), event: true },
  { note: 'anonymous_id only, sent_at corrects ts', value: json({ event: 'login', anonymous_id: 'anon-1', ts: JSON_LOG_TIME - 10 * H, sent_at: JSON_LOG_TIME - 9 * H }), event: true },
  { note: 'fractional epoch ms', value: json({ event: 'spin', user_id: 'frac', ts: JSON_LOG_TIME - 2_000.75 }), event: true },
  { note: 'nested values, null, boolean', value: json({ event: 'spin', user_id: 'nest', meta: { store: 'apple', price: 1.5 }, tags: ['a', 'b'], none: null, flag: true }), event: true },
  { note: 'leading whitespace: still JSON', value: Buffer.from(`  ${JSON.stringify({ event: 'spin', user_id: 'ws', event_id: 'ws-1' })}`), event: true },
  { note: 'tenant longer than the envelope holds (255 bytes)', value: json({ event: 'spin', user_id: 'wide', tenant: 'あ'.repeat(100) }), event: true, sinkRefuses: true },
  { note: 'broken JSON', value: Buffer.from('{"event": "spin", "user_id":'), event: false },
  { note: 'JSON array', value: json([1, 2]), event: false },
  { note: 'JSON string', value: json('purchase'), event: false },
  { note: 'no event', value: json({ user_id: 'u', tenant: 'default' }), event: false },
  { note: 'path in event name', value: json({ event: '../../etc', user_id: 'u' }), event: false },
  { note: 'no user_id', value: json({ event: 'spin', tenant: 'default' }), event: false },
  { note: 'ts not a time', value: json({ event: 'spin', user_id: 'u', ts: 'yesterday' }), event: false },
  { note: 'ts more than 24 h after the log time', value: json({ event: 'spin', user_id: 'u', ts: JSON_LOG_TIME + 25 * H }), event: false },
  { note: 'tenant not a string', value: json({ event: 'spin', user_id: 'u', tenant: 7 }), event: false },
  { note: 'tenant with a colon', value: json({ event: 'spin', user_id: 'u', tenant: 'a:b' }), event: false },
  { note: '__proto__ property', value: Buffer.from('{"event":"spin","user_id":"u","__proto__":{"x":1}}'), event: false },
  { note: 'string too long', value: json({ event: 'spin', user_id: 'u', tenant: 'acme', note: 'x'.repeat(8_193) }), event: false },
  { note: 'not UTF-8', value: Buffer.of(0x7b, 0xff, 0x7d), event: false },
  { note: 'not JSON', value: Buffer.from('not json'), event: false },
]
