import { failure, type RequestFailure } from '../failure.ts'
import { mappedBody } from '../mapped-body.ts'
import { describe, emptyBody, parseJson, requestSentAt, tooMany, type ParsedBody } from '../parse.ts'
import { fromPosthog, posthogError } from './message.ts'

/** A PostHog body read: its project key (PostHog sends it in the body, not a header) and its events. */
export interface PosthogBody {
  /** `api_key` of the body, else of its first event, else that event's `properties.token`; null when none. */
  key: string | null
  /** The parsed JSON, read into events by posthogEvents once the key has been checked. */
  value: unknown
  bytes: Buffer
}

const FORMAT = { map: fromPosthog, explain: posthogError }

/**
 * A /batch/ or /capture/ body: `{"api_key", "batch": [...], "sent_at"}`, one event object with its
 * `api_key`, or an array of events each carrying one. Read once; the key decides the tenant before
 * any event is validated.
 */
export function readPosthogBody(text: string, bytes: Buffer): PosthogBody | RequestFailure {
  if (/^\s*$/.test(text)) return emptyBody()
  const parsed = parseJson(text)
  if (!('value' in parsed)) return parsed
  const v = parsed.value
  const first: unknown = Array.isArray(v) ? v[0] : typeof v === 'object' && v !== null && Array.isArray((v as { batch?: unknown }).batch) ? ((v as { batch: unknown[] }).batch[0] ?? v) : v
  return { key: keyOf(v) ?? keyOf(first) ?? tokenOf(first), value: v, bytes }
}

function keyOf(v: unknown): string | null {
  const k = typeof v === 'object' && v !== null ? (v as { api_key?: unknown }).api_key : undefined
  return typeof k === 'string' && k !== '' ? k : null
}

function tokenOf(v: unknown): string | null {
  const p = typeof v === 'object' && v !== null ? (v as { properties?: unknown }).properties : undefined
  const t = typeof p === 'object' && p !== null ? (p as { token?: unknown }).token : undefined
  return typeof t === 'string' && t !== '' ? t : null
}

export function posthogEvents(body: PosthogBody, maxEvents: number): ParsedBody | RequestFailure {
  const v = body.value
  if (Array.isArray(v)) {
    if (v.length > maxEvents) return tooMany(v.length, maxEvents)
    return mappedBody(v, body.bytes, { batch: false }, undefined, FORMAT)
  }
  if (typeof v !== 'object' || v === null) return failure(400, 'invalid_body', `body must be {"api_key": …, "batch": [...]}, one event object or an array of events; got ${describe(v)}`)
  const sentAt = requestSentAt((v as { sent_at?: unknown }).sent_at)
  if (typeof sentAt === 'object') return sentAt
  if (!Object.hasOwn(v, 'batch')) return mappedBody([v], body.bytes, null, sentAt, FORMAT)
  const batch = (v as { batch: unknown }).batch
  if (!Array.isArray(batch)) return failure(400, 'invalid_body', `batch: must be an array of events, got ${describe(batch)}`, 'batch')
  if (batch.length > maxEvents) return tooMany(batch.length, maxEvents)
  return mappedBody(batch, body.bytes, { batch: true }, sentAt, FORMAT)
}
