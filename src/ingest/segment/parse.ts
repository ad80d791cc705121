import { failure, type RequestFailure } from '../failure.ts'
import { describe, emptyBody, parseJson, ParsedBody, requestSentAt, tooMany, type EarlyReject } from '../parse.ts'
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
  if (call !== 'batch') return messages([v], null, bytes, call, undefined)
  const batch = (v as { batch?: unknown }).batch
  if (batch === undefined) return failure(400, 'invalid_body', 'batch: is required: send {"batch": [...]} with one message per call', 'batch')
  if (!Array.isArray(batch)) return failure(400, 'invalid_body', `batch: must be an array of messages, got ${describe(batch)}`, 'batch')
  if (batch.length > maxEvents) return tooMany(batch.length, maxEvents)
  const sentAt = requestSentAt((v as { sentAt?: unknown }).sentAt, 'sentAt')
  if (typeof sentAt === 'object') return sentAt
  return messages(batch, bytes, bytes, null, sentAt)
}

/** `batchBytes` is the body when `sent` is its batch array (dead letters cut each message out of it), else null. */
function messages(sent: unknown[], batchBytes: Buffer | null, bytes: Buffer, routeType: SegmentType | null, sentAt: number | undefined): ParsedBody {
  const items: unknown[] = []
  const positions: number[] = []
  const early: EarlyReject[] = []
  const source = batchBytes === null ? { kind: 'whole' as const, bytes } : { kind: 'elements' as const, bytes: batchBytes, batch: true, sent }
  const body = new ParsedBody(items, positions, early, source, sentAt, (k, error) => segmentError(sent[positions[k]!], routeType, error))
  for (let p = 0; p < sent.length; p++) {
    const r = fromSegment(sent[p], routeType)
    if (r.ok) {
      items.push(r.candidate)
      positions.push(p)
    } else early.push({ index: p, ...r.error, raw: body.element(p) })
  }
  return body
}
