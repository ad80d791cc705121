import { failure, type RequestFailure } from '../failure.ts'
import { mappedBody } from '../mapped-body.ts'
import { describe, emptyBody, parseJson, requestSentAt, tooMany, type ParsedBody } from '../parse.ts'
import { fromSegment, segmentError, type SegmentType } from './message.ts'

/** A Segment route's body: `batch` ({"batch": [...], "sentAt": …}) or one call of the given type. */
export type SegmentCall = SegmentType | 'batch'

/**
 * A Segment or RudderStack request body as candidate events (docs/segment.md). A message that is
 * not a call of the spec (no type, a track without its event name) is rejected here with the field
 * named as sent; the others go on to validateEvent like any event, and its errors are put back in
 * the spec's names by `explain`.
 */
export function parseSegmentJson(text: string, bytes: Buffer, call: SegmentCall, maxEvents: number): ParsedBody | RequestFailure {
  if (/^\s*$/.test(text)) return emptyBody()
  const parsed = parseJson(text)
  if (!('value' in parsed)) return parsed
  const v = parsed.value
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    const want = call === 'batch' ? 'an object {"batch": [...]}' : `one ${call} call as a JSON object`
    return failure(400, 'invalid_body', `body must be ${want}, got ${describe(v)}`)
  }
  if (call !== 'batch') return messages([v], bytes, call, undefined, false)
  const batch = (v as { batch?: unknown }).batch
  if (batch === undefined) return failure(400, 'invalid_body', 'batch: is required: send {"batch": [...]} with one message per call', 'batch')
  if (!Array.isArray(batch)) return failure(400, 'invalid_body', `batch: must be an array of messages, got ${describe(batch)}`, 'batch')
  if (batch.length > maxEvents) return tooMany(batch.length, maxEvents)
  const sentAt = requestSentAt((v as { sentAt?: unknown }).sentAt, 'sentAt')
  if (typeof sentAt === 'object') return sentAt
  return messages(batch, bytes, null, sentAt, true)
}

function messages(sent: unknown[], bytes: Buffer, routeType: SegmentType | null, sentAt: number | undefined, batch: boolean): ParsedBody {
  return mappedBody(sent, bytes, batch ? { batch: true } : null, sentAt, { map: (m) => fromSegment(m, routeType), explain: (m, e) => segmentError(m, routeType, e) })
}
