import { EVENT_NAME_RULE, RESERVED_FIELDS, type EventError } from '../../events/index.ts'
import type { MappedMessage } from '../mapped-body.ts'

/*
 * One message of the Segment tracking spec (also what RudderStack's SDKs send) read as one of our
 * events (docs/segment.md). The result is a candidate for validateEvent, so every bound and rule of
 * our own envelope holds for it; only the field names differ.
 *
 *   type            the event name for identify, page, screen, group, alias; track names its own `event`
 *   userId          user_id          anonymousId      anonymous_id
 *   messageId       event_id (de-duplicated like any client event id)
 *   timestamp       ts (else originalTimestamp, RudderStack's name for the same client time)
 *   sentAt          sent_at: the event time is corrected by it (docs/events.md#event-time)
 *   properties      top-level properties (track, page, screen), so `purchase.amount` is counted
 *   traits          top-level properties (identify, group), as Segment's warehouses lay them out
 *   context         the nested property `context`
 *   name, category  properties of page and screen calls
 *   groupId         the property group_id      previousId       the property previous_id
 */

/** The calls of the spec; each has its route (/v1/track …) and may be a batch message's `type`. */
export const SEGMENT_TYPES = ['track', 'identify', 'page', 'screen', 'group', 'alias'] as const
export type SegmentType = (typeof SEGMENT_TYPES)[number]

const TYPES = new Set<string>(SEGMENT_TYPES)

export function isSegmentType(v: unknown): v is SegmentType {
  return typeof v === 'string' && TYPES.has(v)
}

/** Envelope fields of a message: read into our envelope above, never kept as properties. */
export const SEGMENT_ENVELOPE = [
  'type',
  'event',
  'userId',
  'anonymousId',
  'messageId',
  'timestamp',
  'originalTimestamp',
  'sentAt',
  'receivedAt',
  'properties',
  'traits',
  'context',
  'name',
  'category',
  'groupId',
  'previousId',
  // Delivery details of the SDKs, not facts about the event.
  'integrations',
  '_metadata',
  'writeKey',
  'version',
] as const
const ENVELOPE = new Set<string>(SEGMENT_ENVELOPE)

/** Our reserved names, and names this mapping always sets: a property so named gets a leading `_`. */
export const TAKEN_NAMES: readonly string[] = [...RESERVED_FIELDS, 'received_at', 'context', 'original_event']
const TAKEN = new Set<string>(TAKEN_NAMES)

const NAME_OK = new RegExp(`^[${EVENT_NAME_RULE.first}][${EVENT_NAME_RULE.rest}]{0,${EVENT_NAME_RULE.maxLength - 1}}$`)
const NAME_BAD_RUN = new RegExp(`[^${EVENT_NAME_RULE.rest}]+`, 'g')

/**
 * A track call's event name as ours: Segment allows any text ("Order Completed"), our names become
 * warehouse directories. Each run of other characters becomes `_`, a name that starts with a digit
 * or `.:-` gets a leading `_`, and the result is cut to the rule's length; the name as sent is then
 * kept as the property `original_event`.
 */
export function eventNameOf(sent: string): string {
  if (NAME_OK.test(sent)) return sent
  let name = sent.replace(NAME_BAD_RUN, '_')
  if (!new RegExp(`^[${EVENT_NAME_RULE.first}]`).test(name)) name = `_${name}`
  return name.slice(0, EVENT_NAME_RULE.maxLength)
}

/** The message as our event, or why it cannot be one (fields named as the client sent them). */
export type SegmentResult = MappedMessage

const refuse = (field: string, reason: string): SegmentResult => ({ ok: false, error: { field, reason } })

export function fromSegment(msg: unknown, routeType: SegmentType | null): SegmentResult {
  if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) return refuse('(event)', 'must be a JSON object')
  const m = msg as Record<string, unknown>
  const type = routeType ?? m.type
  if (type === undefined || type === null) return refuse('type', `is required: one of ${SEGMENT_TYPES.join(', ')}`)
  if (!isSegmentType(type)) return refuse('type', `must be one of ${SEGMENT_TYPES.join(', ')}, got ${describe(type)}`)
  const out: Record<string, unknown> = {}
  let name: string = type
  if (type === 'track') {
    const sent = m.event
    if (sent === undefined || sent === null || sent === '') return refuse('event', 'is required for a track call')
    if (typeof sent !== 'string') return refuse('event', `must be a string, got ${describe(sent)}`)
    name = eventNameOf(sent)
    if (name !== sent) out.original_event = sent
  }
  const source = type === 'identify' || type === 'group' ? 'traits' : 'properties'
  const bag = m[source]
  if (bag !== undefined && bag !== null) {
    if (typeof bag !== 'object' || Array.isArray(bag)) return refuse(source, `must be an object, got ${describe(bag)}`)
    for (const key in bag) {
      if (!Object.hasOwn(bag, key)) continue
      out[TAKEN.has(key) ? `_${key}` : key] = (bag as Record<string, unknown>)[key]
    }
  }
  // Other top-level fields (channel, …) are kept as properties, like any field of our own envelope.
  for (const key in m) {
    if (!Object.hasOwn(m, key) || ENVELOPE.has(key)) continue
    out[TAKEN.has(key) ? `_${key}` : key] = m[key]
  }
  out.event = name
  if (m.userId !== undefined && m.userId !== null && m.userId !== '') out.user_id = m.userId
  if (m.anonymousId !== undefined && m.anonymousId !== null && m.anonymousId !== '') out.anonymous_id = m.anonymousId
  if (m.messageId !== undefined && m.messageId !== null) out.event_id = m.messageId
  const ts = m.timestamp ?? m.originalTimestamp
  if (ts !== undefined) out.ts = ts
  if (m.sentAt !== undefined) out.sent_at = m.sentAt
  if (m.context !== undefined && m.context !== null) out.context = m.context
  if (type === 'page' || type === 'screen') {
    setField(out, 'name', m.name)
    setField(out, 'category', m.category)
  }
  if (type === 'group') {
    if (m.groupId === undefined || m.groupId === null || m.groupId === '') return refuse('groupId', 'is required for a group call')
    setField(out, 'group_id', m.groupId)
  }
  if (type === 'alias') {
    if (m.previousId === undefined || m.previousId === null || m.previousId === '') return refuse('previousId', 'is required for an alias call')
    // An alias to itself links nothing; refused so it cannot be mistaken for a link (docs/segment.md).
    if (m.previousId === (out.user_id ?? out.anonymous_id)) return refuse('previousId', 'must differ from userId: an alias to itself links nothing')
    setField(out, 'previous_id', m.previousId)
  }
  return { ok: true, candidate: out }
}

/**
 * A call's own field (a page's name, a group's id) as a property. A property of the same name and
 * another value (analytics-node copies a page's category into its properties) moves to `_name`.
 */
function setField(out: Record<string, unknown>, name: string, value: unknown): void {
  if (value === undefined || value === null) return
  const prior = out[name]
  if (prior !== undefined && prior !== value) out[`_${name}`] = prior
  out[name] = value
}

function describe(v: unknown): string {
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'array'
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)
  return typeof v
}

/** Our envelope's names as the spec calls them, for errors about a Segment message. */
const SPEC_NAMES: Record<string, string> = {
  user_id: 'userId',
  anonymous_id: 'anonymousId',
  event_id: 'messageId',
  sent_at: 'sentAt',
  group_id: 'groupId',
  previous_id: 'previousId',
  original_event: 'event',
}

/**
 * An error about the event fromSegment made of `msg`, with its field and reason in the spec's names
 * (`properties.amount`, `timestamp`, `userId`), so the client sees the field it sent.
 */
export function segmentError(msg: unknown, routeType: SegmentType | null, error: EventError): EventError {
  const reason = error.reason
    .replace(/\banonymous_id\b/g, 'anonymousId')
    .replace(/\bsent_at\b/g, 'sentAt')
    .replace(/\buser_id\b/g, 'userId')
  if (typeof msg !== 'object' || msg === null) return { field: error.field, reason }
  const m = msg as Record<string, unknown>
  const split = /^([^.[]*)(.*)$/.exec(error.field)!
  const head = split[1]!
  const rest = split[2]!
  if (head === 'ts') return { field: m.timestamp !== undefined ? 'timestamp' : 'originalTimestamp', reason }
  const spec = SPEC_NAMES[head]
  if (spec !== undefined) return { field: spec + rest, reason }
  if (head === 'event' || head === 'context' || head === 'name' || head === 'category' || head.startsWith('(')) return { field: error.field, reason }
  const type = routeType ?? m.type
  const source = type === 'identify' || type === 'group' ? 'traits' : 'properties'
  const bag = m[source]
  const sent = head.startsWith('_') ? head.slice(1) : head
  for (const key of sent === head ? [head] : [sent, head]) {
    if (typeof bag === 'object' && bag !== null && Object.hasOwn(bag, key)) return { field: `${source}.${key}${rest}`, reason }
    if (Object.hasOwn(m, key) && !ENVELOPE.has(key)) return { field: key + rest, reason }
  }
  return { field: error.field, reason }
}
