import type { TrackedEvent } from './envelope.ts'

// Events travel through the log as JSON: any Kafka consumer, Spark job or jq can read the topic,
// and V8's JSON codec is faster than any JS-side binary format for objects of this shape.
export function encodeEvent(event: TrackedEvent): Buffer {
  return Buffer.from(JSON.stringify(event))
}

export function decodeEvent(bytes: Uint8Array): TrackedEvent {
  return JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8')) as TrackedEvent
}
