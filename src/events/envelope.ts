/** A JSON value as it may appear in an event property. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue }

/**
 * An event after validation at the edge. This is what the log stores (as JSON) and every consumer
 * decodes: JSON is parsed once at the collector, never re-validated downstream.
 */
export interface TrackedEvent {
  event: string
  /** user_id as sent, or the anonymous_id when no user_id was given: the identity windows and tags key on. */
  user_id: string
  anonymous_id?: string
  /** Event time, epoch milliseconds. */
  ts: number
  event_id: string
  /**
   * true when the server made up event_id because the client sent none. Kept only as a flag in the
   * binary envelope (codec.ts); decoders leave it out and no output carries it.
   */
  id_assigned?: true
  tenant: string
  /** Receive time at the collector, epoch milliseconds. */
  received_at: number
  properties: Record<string, JsonValue>
}

/**
 * Field names with a meaning of their own; every other top-level field is a property. `sent_at` is
 * read and consumed (docs/events.md#event-time): it is the client's clock, not a fact about the event.
 */
export const RESERVED_FIELDS = ['event', 'user_id', 'anonymous_id', 'ts', 'event_id', 'tenant', 'sent_at'] as const

export interface EnvelopeLimits {
  /** Approximate encoded size of one event, bytes. */
  maxEventBytes: number
  /** Nesting depth of property values: 1 = flat scalars only. */
  maxDepth: number
  /** Number of keys and array items in all properties together. */
  maxProperties: number
  maxStringLength: number
  maxKeyLength: number
  /**
   * How far in the future an event time may be, relative to receive time (clock skew): later than
   * the receive time but within this it is clamped to the receive time, beyond it rejected. Not
   * finite: there is no server clock (replay), see ValidationContext.serverClock.
   */
  maxFutureMs: number
}

export const DEFAULT_LIMITS: EnvelopeLimits = {
  maxEventBytes: 32 * 1024,
  maxDepth: 5,
  maxProperties: 256,
  maxStringLength: 8 * 1024,
  maxKeyLength: 128,
  maxFutureMs: 24 * 60 * 60 * 1000,
}

export const DEFAULT_TENANT = 'default'
