import type { EventError } from '../events/index.ts'
import { ParsedBody, type EarlyReject } from './parse.ts'

/** Another format's message read as one of our events, or why it cannot be one (in that format's names). */
export type MappedMessage = { ok: true; candidate: Record<string, unknown> } | { ok: false; error: EventError }

/** How one format's messages become our candidate events, and its errors its own names again. */
export interface MessageFormat {
  map(msg: unknown): MappedMessage
  explain(msg: unknown, error: EventError): EventError
}

/**
 * The messages of a body in another format (Segment, PostHog) as candidate events: each message is
 * mapped, a message that cannot be mapped is rejected at its position with its own bytes, and
 * validation errors about the others are put back in the format's names.
 * `elements`: the body is a JSON array (`batch: false`) or `{"batch": [...]}` (`true`) whose
 * elements are `sent`, so dead letters cut each message out of it; null: `sent` is the whole body.
 */
export function mappedBody(sent: unknown[], bytes: Buffer, elements: { batch: boolean } | null, sentAt: number | undefined, format: MessageFormat): ParsedBody {
  const items: unknown[] = []
  const positions: number[] = []
  const early: EarlyReject[] = []
  const source = elements === null ? { kind: 'whole' as const, bytes } : { kind: 'elements' as const, bytes, batch: elements.batch, sent }
  const body = new ParsedBody(items, positions, early, source, sentAt, (k, error) => format.explain(sent[positions[k]!], error))
  for (let p = 0; p < sent.length; p++) {
    const r = format.map(sent[p])
    if (r.ok) {
      items.push(r.candidate)
      positions.push(p)
    } else early.push({ index: p, ...r.error, raw: body.element(p) })
  }
  return body
}
