import {
  DEFAULT_LIMITS,
  DEFAULT_TENANT,
  EVENT_NAME_RULE,
  FORBIDDEN_KEY,
  MAX_ID_LENGTH,
  RESERVED_FIELDS,
  SIZE_ESTIMATE,
  type EnvelopeLimits,
  type EventError,
  type JsonValue,
  type TrackedEvent,
} from './envelope.ts'
import { ORIGINAL_TS, resolveEventTime, resolved } from './client-time.ts'
import { uuid7 } from './uuid7.ts'

export interface ValidationContext {
  tenant?: string
  /** When the event was received, epoch ms; default now. */
  receivedAt?: number
  limits?: EnvelopeLimits
  /**
   * The request's `sent_at` (the client's clock when it sent the batch), parsed; an event's own
   * `sent_at` wins over it. See docs/events.md#event-time.
   */
  sentAt?: number
  /**
   * receivedAt is a reading of the server's clock: event times are corrected by sent_at and never
   * later than it (a later one is clamped, its client value kept as the property original_ts).
   * false when there is no server clock (tagstream replay: a file is replayed as written): the
   * client's ts is kept exactly and sent_at, still validated, changes nothing. Default: true, unless
   * limits.maxFutureMs is not finite (replay's limits say the same thing).
   */
  serverClock?: boolean
  /** Id for an event that has none; default a UUIDv7 of the receive time. */
  makeId?: () => string
}

export type ValidationResult = { ok: true; event: TrackedEvent } | { ok: false; error: EventError }

const EVENT_NAME = new RegExp(`^[${EVENT_NAME_RULE.first}][${EVENT_NAME_RULE.rest}]{0,${EVENT_NAME_RULE.maxLength - 1}}$`)
const RESERVED = new Set<string>(RESERVED_FIELDS)

const fail = (field: string, reason: string): ValidationResult => ({ ok: false, error: { field, reason } })

export function formatEventError(e: EventError): string {
  return `${e.field}: ${e.reason}`
}

export function validateEvent(raw: unknown, ctx: ValidationContext = {}): ValidationResult {
  const limits = ctx.limits ?? DEFAULT_LIMITS
  const receivedAt = ctx.receivedAt ?? Date.now()
  const tenant = ctx.tenant ?? DEFAULT_TENANT
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return fail('(event)', 'must be a JSON object')
  const obj = raw as Record<string, unknown>

  const name = obj.event
  if (name === undefined || name === null) return fail('event', 'is required')
  if (typeof name !== 'string') return fail('event', `must be a string, got ${typeName(name)}`)
  if (!EVENT_NAME.test(name)) {
    return fail('event', `must start with a letter or _ and contain only letters, digits, _ . : - (at most ${EVENT_NAME_RULE.maxLength} characters)`)
  }

  // The server's own fields of a stored event (events-format.ts): a client's would be taken for them.
  if (obj.received_at !== undefined) return fail('received_at', 'is set by the server; send the event time as ts, or use another property name')
  if (obj.id_assigned !== undefined) return fail('id_assigned', 'is set by the server; use another property name')

  const userId = identity(obj, 'user_id')
  if (typeof userId === 'object') return userId
  const anonymousId = identity(obj, 'anonymous_id')
  if (typeof anonymousId === 'object') return anonymousId
  if (userId === undefined && anonymousId === undefined) return fail('user_id', 'is required (or anonymous_id)')

  const serverClock = ctx.serverClock ?? Number.isFinite(limits.maxFutureMs)
  const badTime = resolveEventTime(obj.ts, obj.sent_at, receivedAt, limits.maxFutureMs, serverClock, ctx.sentAt)
  if (badTime) return { ok: false, error: badTime }
  const ts = resolved.ts
  // The client's own value, kept whenever the server changed it: nothing sent is lost.
  const originalTs = resolved.changed ? resolved.client : null

  let eventId: string
  const assigned = obj.event_id === undefined || obj.event_id === null
  if (assigned) eventId = ctx.makeId ? ctx.makeId() : uuid7(receivedAt)
  else if (typeof obj.event_id !== 'string') return fail('event_id', `must be a string, got ${typeName(obj.event_id)}`)
  else if (obj.event_id.length === 0 || obj.event_id.length > MAX_ID_LENGTH) return fail('event_id', `must be 1 to ${MAX_ID_LENGTH} characters`)
  else eventId = obj.event_id

  if (obj.tenant !== undefined && obj.tenant !== tenant) {
    return fail('tenant', "is set by the API key; omit it or send the key's own tenant")
  }

  const properties: Record<string, JsonValue> = {}
  const budget = { bytes: SIZE_ESTIMATE.base + name.length + eventId.length + (userId?.length ?? 0) + (anonymousId?.length ?? 0), items: 0 }
  for (const key in obj) {
    if (RESERVED.has(key)) continue
    const value = obj[key]
    const bad = checkProperty(key, value, limits, budget)
    if (bad) return fail(bad.field, bad.reason)
    properties[key] = value as JsonValue
  }
  if (budget.bytes > limits.maxEventBytes) return fail('(event)', `is larger than ${limits.maxEventBytes} bytes`)
  // Replaces a client's own original_ts, if any: the name means "the ts this event was sent with".
  if (originalTs !== null) properties[ORIGINAL_TS] = originalTs

  const event: TrackedEvent = {
    event: name,
    user_id: userId ?? anonymousId!,
    ts,
    event_id: eventId,
    tenant,
    received_at: receivedAt,
    properties,
  }
  if (anonymousId !== undefined) event.anonymous_id = anonymousId
  if (assigned) event.id_assigned = true
  return { ok: true, event }
}

function identity(obj: Record<string, unknown>, field: 'user_id' | 'anonymous_id'): string | undefined | ValidationResult {
  const v = obj[field]
  if (v === undefined || v === null) return undefined
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) return fail(field, 'must be a string or an integer')
    return String(v)
  }
  if (typeof v !== 'string') return fail(field, `must be a string or an integer, got ${typeName(v)}`)
  if (v.length === 0 || v.length > MAX_ID_LENGTH) return fail(field, `must be 1 to ${MAX_ID_LENGTH} characters`)
  return v
}

/** What an event's properties add up to against EnvelopeLimits: estimated bytes and keys and items. */
export interface Budget {
  bytes: number
  items: number
}

/** One top-level property checked as validateEvent checks it (its name, its value, what it nests), counted into `budget`. */
export function checkProperty(key: string, value: unknown, limits: EnvelopeLimits, budget: Budget): EventError | null {
  return checkKey(key, key, limits) ?? checkValue(key, value, 1, limits, budget)
}

function checkValue(path: string, value: unknown, depth: number, limits: EnvelopeLimits, budget: Budget): EventError | null {
  if (++budget.items > limits.maxProperties) return { field: path, reason: `too many properties (at most ${limits.maxProperties} keys and items in all)` }
  switch (typeof value) {
    case 'string':
      if (value.length > limits.maxStringLength) return { field: path, reason: `string longer than ${limits.maxStringLength} characters` }
      budget.bytes += value.length + path.length + SIZE_ESTIMATE.string
      return null
    case 'number':
      if (!Number.isFinite(value)) return { field: path, reason: 'number is out of range' }
      if (Number.isInteger(value) && !Number.isSafeInteger(value)) {
        return { field: path, reason: 'integer is beyond 2^53 and would lose precision; send it as a string' }
      }
      budget.bytes += path.length + SIZE_ESTIMATE.number
      return null
    case 'boolean':
      budget.bytes += path.length + SIZE_ESTIMATE.literal
      return null
    case 'object': {
      if (value === null) {
        budget.bytes += path.length + SIZE_ESTIMATE.literal
        return null
      }
      if (depth >= limits.maxDepth) return { field: path, reason: `nested deeper than ${limits.maxDepth} levels` }
      budget.bytes += path.length + SIZE_ESTIMATE.container
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) {
          const bad = checkValue(`${path}[${i}]`, value[i], depth + 1, limits, budget)
          if (bad) return bad
        }
        return null
      }
      for (const key in value as Record<string, unknown>) {
        const sub = `${path}.${key}`
        const bad = checkKey(sub, key, limits) ?? checkValue(sub, (value as Record<string, unknown>)[key], depth + 1, limits, budget)
        if (bad) return bad
      }
      return null
    }
    default:
      return { field: path, reason: `unsupported value of type ${typeof value}` }
  }
}

/** Longest property name in UTF-8 bytes. */
const MAX_KEY_BYTES = 255

function checkKey(path: string, key: string, limits: EnvelopeLimits): EventError | null {
  if (key.length === 0) return { field: path, reason: 'property names must not be empty' }
  if (key.length > limits.maxKeyLength) return { field: path, reason: `property name longer than ${limits.maxKeyLength} characters` }
  // The log stores a name's length in one byte (src/events/codec.ts); only non-ASCII names can get there.
  if (key.length > MAX_KEY_BYTES / 3 && Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES) return { field: path, reason: `property name longer than ${MAX_KEY_BYTES} bytes in UTF-8` }
  if (key === FORBIDDEN_KEY) return { field: path, reason: `property name "${FORBIDDEN_KEY}" is not allowed` }
  return null
}

function typeName(v: unknown): string {
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'array'
  return typeof v
}
