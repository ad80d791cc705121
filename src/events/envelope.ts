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
 * `received_at` and `id_assigned` are the server's (a stored JSON event carries them,
 * ./events-format.ts): a client that sends one is refused, so no property can take their names.
 */
export const RESERVED_FIELDS = ['event', 'user_id', 'anonymous_id', 'ts', 'event_id', 'tenant', 'sent_at', 'received_at', 'id_assigned'] as const

/** One of RESERVED_FIELDS. */
export type ReservedField = (typeof RESERVED_FIELDS)[number]

/**
 * The event name rule. Names become warehouse directory names (event=NAME), so they are kept
 * path-safe: a first character from `first`, then characters from `rest`, `maxLength` in all.
 * Written as regular-expression character classes; validate.ts and the collector's byte-level fast
 * path (src/ingest/fast-path-bytes.ts) both build their checks from these.
 */
export const EVENT_NAME_RULE = { first: 'A-Za-z_', rest: 'A-Za-z0-9_.:-', maxLength: 128 } as const

/** Longest user_id, anonymous_id or event_id, in UTF-16 code units. */
export const MAX_ID_LENGTH = 256

/** A property name refused at any depth: as a key of a plain object it would set the prototype. */
export const FORBIDDEN_KEY = '__proto__'

/**
 * How an event's size is estimated against EnvelopeLimits.maxEventBytes (cheaply, before it is
 * encoded): `base` plus the envelope strings' lengths, plus per property value its path's length and
 * the cost of its kind (a string adds its length too). validate.ts and the fast path both count so.
 */
export const SIZE_ESTIMATE = { base: 64, string: 6, number: 24, literal: 8, container: 4 } as const

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

/** A rejected event names the field at fault and why, so a client can fix it without guessing. */
export interface EventError {
  field: string
  reason: string
}

export const DEFAULT_TENANT = 'default'
