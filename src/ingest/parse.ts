import { isUtf8 } from 'node:buffer'
import { parseEventTime, type EventError } from '../events/index.ts'
import { failure, type RequestFailure } from './failure.ts'
import { elementSpans } from './json-spans.ts'
import { locateJsonError } from './json-syntax.ts'

/*
 * From body text to a list of candidate events. A JSON body is parsed once, whole (one JSON.parse of
 * the array is far cheaper than one per event); NDJSON is parsed line by line, because a bad line
 * must not sink the lines around it. Raw bytes of an event are only looked up for rejected events.
 */

/** An event that failed before validation: an NDJSON line that is not JSON or not UTF-8. */
export interface EarlyReject {
  index: number
  field: string
  reason: string
  raw: Buffer
}

type RawSource =
  | { kind: 'whole'; bytes: Buffer }
  | { kind: 'elements'; bytes: Buffer; batch: boolean; sent: unknown[] }
  | { kind: 'lines'; text: string; spans: number[] }
  | { kind: 'byte-lines'; bytes: Buffer; spans: number[] }

/** The candidate events of one request body, in request order. */
export class ParsedBody {
  private elementSpans: number[] | null | undefined

  constructor(
    /** Parsed values to validate. */
    readonly items: unknown[],
    /** Request position of each item (NDJSON: line number − 1); null when item k is at position k. */
    readonly positions: number[] | null,
    /** Events already rejected while parsing. */
    readonly early: EarlyReject[],
    private readonly source: RawSource,
    /** The body's own `sent_at` ({"batch": [...], "sent_at": …}), epoch ms: the client's clock when it sent the request. */
    readonly sentAt: number | undefined = undefined,
    /**
     * A validation error about item k in the words of the body's own format (a Segment message's
     * `properties.amount` for the `amount` it became); null where items are sent as they are.
     */
    readonly explain: ((k: number, error: EventError) => EventError) | null = null,
  ) {}

  position(k: number): number {
    return this.positions === null ? k : this.positions[k]!
  }

  /** The bytes of item k as sent (used for dead letters only). */
  raw(k: number): Buffer {
    const src = this.source
    switch (src.kind) {
      case 'whole':
        return src.bytes
      case 'lines':
        return Buffer.from(src.text.slice(src.spans[2 * k]!, src.spans[2 * k + 1]!))
      case 'byte-lines':
        return src.bytes.subarray(src.spans[2 * k]!, src.spans[2 * k + 1]!)
      case 'elements':
        return this.element(this.position(k))
    }
  }

  /** The bytes of element p of a JSON array or batch as sent (p counts every element, valid or not). */
  element(p: number): Buffer {
    const src = this.source
    if (src.kind !== 'elements') return this.raw(p)
    if (this.elementSpans === undefined) this.elementSpans = safeSpans(src.bytes, src.batch)
    const spans = this.elementSpans
    if (spans !== null && spans.length === src.sent.length * 2) return src.bytes.subarray(spans[2 * p]!, spans[2 * p + 1]!)
    return Buffer.from(safeStringify(src.sent[p]))
  }
}

/** JSON.parse with a precise 400: position, line, column and what was wrong. */
export function parseJson(text: string): { value: unknown } | RequestFailure {
  try {
    return { value: JSON.parse(text) as unknown }
  } catch (err) {
    return failure(400, 'invalid_json', jsonErrorMessage(text, err))
  }
}

function jsonErrorMessage(text: string, err: unknown): string {
  if (err instanceof RangeError) return 'body is not valid JSON: nested too deeply to parse'
  const loc = locateJsonError(text)
  if (loc.reason === 'no error found') {
    // The scanner and V8 disagree (should not happen): fall back to V8's own position, if any.
    const m = /position (\d+)/.exec((err as Error).message)
    return `body is not valid JSON${m ? ` at position ${m[1]}` : ''}`
  }
  return `body is not valid JSON at line ${loc.line}, column ${loc.column} (position ${loc.position}): ${loc.reason}`
}

const EMPTY = /^[\s]*$/

export function emptyBody(): RequestFailure {
  return failure(400, 'empty_body', 'request body is empty; send a JSON array of events, {"batch": [...]}, or NDJSON lines')
}

export function tooMany(n: number, max: number): RequestFailure {
  return failure(413, 'too_many_events', `request holds ${n} events; at most ${max} are accepted per request — split it into smaller batches`)
}

export function describe(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v === 'object' ? 'an object' : `a ${typeof v}`
}

/**
 * A POST /v1/events JSON body: an array of events, {"batch": [...]}, or one event object.
 * `bytes` is the decoded body (for a one-event body's dead letter).
 */
export function parseEventsJson(text: string, bytes: Buffer, maxEvents: number): ParsedBody | RequestFailure {
  if (EMPTY.test(text)) return emptyBody()
  const parsed = parseJson(text)
  if (!('value' in parsed)) return parsed
  const v = parsed.value
  let items: unknown[]
  let batch = false
  let sentAt: number | undefined
  if (Array.isArray(v)) items = v
  else if (typeof v === 'object' && v !== null) {
    if (!Object.hasOwn(v, 'batch')) return new ParsedBody([v], null, [], { kind: 'whole', bytes })
    const b = (v as { batch: unknown }).batch
    if (!Array.isArray(b)) return failure(400, 'invalid_body', `"batch" must be an array of events, got ${describe(b)}`, 'batch')
    items = b
    batch = true
    const sent = requestSentAt((v as { sent_at?: unknown }).sent_at)
    if (typeof sent === 'object') return sent
    sentAt = sent
  } else {
    return failure(400, 'invalid_body', `body must be a JSON array of events, an object {"batch": [...]}, or one event object; got ${describe(v)}`)
  }
  if (items.length > maxEvents) return tooMany(items.length, maxEvents)
  return new ParsedBody(items, null, [], { kind: 'elements', bytes, batch, sent: items }, sentAt)
}

/**
 * A batch's `sent_at` (docs/events.md#event-time), read like an event's `ts`. A bad one is the
 * request's fault, not one event's: every event of the batch would be corrected by it.
 */
export function requestSentAt(raw: unknown, field = 'sent_at'): number | undefined | RequestFailure {
  if (raw === undefined || raw === null) return undefined
  const t = parseEventTime(raw)
  return t.ok ? t.ms : failure(400, 'invalid_body', `${field}: ${t.reason}`, field)
}

/** A POST /v1/track body: exactly one event object. */
export function parseTrackJson(text: string, bytes: Buffer): ParsedBody | RequestFailure {
  if (EMPTY.test(text)) return failure(400, 'empty_body', 'request body is empty; send one event as a JSON object')
  const parsed = parseJson(text)
  if (!('value' in parsed)) return parsed
  const v = parsed.value
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    return failure(400, 'invalid_body', `body must be one event as a JSON object, got ${describe(v)}${Array.isArray(v) ? '; send batches to POST /v1/events' : ''}`)
  }
  return new ParsedBody([v], null, [], { kind: 'whole', bytes })
}

/**
 * NDJSON: one event per line. Blank lines are skipped but keep their number, so an event's index is
 * always its line number − 1. A line that is not JSON (or not UTF-8) is a rejected event, not a bad
 * request. `text` is null when the body as a whole is not valid UTF-8: then lines are cut from bytes.
 */
export function parseNdjson(text: string | null, bytes: Buffer, maxEvents: number): ParsedBody | RequestFailure {
  return text === null ? parseNdjsonBytes(bytes, maxEvents) : parseNdjsonText(text, maxEvents)
}

function parseNdjsonText(text: string, maxEvents: number): ParsedBody | RequestFailure {
  // Pass 1: line spans (no strings made), so an oversized request is refused before parsing.
  const spans: number[] = []
  const lines: number[] = []
  const n = text.length
  let line = 0
  for (let start = 0; start <= n; line++) {
    let nl = text.indexOf('\n', start)
    if (nl === -1) nl = n
    let end = nl
    if (end > start && text.charCodeAt(end - 1) === 0x0d) end--
    if (!blank(text, start, end)) {
      spans.push(start, end)
      lines.push(line)
    }
    start = nl + 1
  }
  if (lines.length === 0) return emptyBody()
  if (lines.length > maxEvents) return tooMany(lines.length, maxEvents)
  const parsed = parseLines(
    spans,
    lines,
    (start, end) => text.slice(start, end),
    (lineText) => Buffer.from(lineText),
  )
  return new ParsedBody(parsed.items, parsed.positions, parsed.early, { kind: 'lines', text, spans: parsed.spans })
}

function parseNdjsonBytes(bytes: Buffer, maxEvents: number): ParsedBody | RequestFailure {
  const spans: number[] = []
  const lines: number[] = []
  const n = bytes.length
  let line = 0
  const bom = n >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf
  for (let start = bom ? 3 : 0; start <= n; line++) {
    let nl = bytes.indexOf(0x0a, start)
    if (nl === -1) nl = n
    let end = nl
    if (end > start && bytes[end - 1] === 0x0d) end--
    if (!blankBytes(bytes, start, end)) {
      spans.push(start, end)
      lines.push(line)
    }
    start = nl + 1
  }
  if (lines.length === 0) return emptyBody()
  if (lines.length > maxEvents) return tooMany(lines.length, maxEvents)
  const parsed = parseLines(
    spans,
    lines,
    (start, end) => {
      const raw = bytes.subarray(start, end)
      return isUtf8(raw) ? raw.toString('utf8') : null
    },
    (_lineText, start, end) => bytes.subarray(start, end),
  )
  return new ParsedBody(parsed.items, parsed.positions, parsed.early, { kind: 'byte-lines', bytes, spans: parsed.spans })
}

/**
 * Pass 2, shared by text and byte bodies: parse each non-blank line. `text` returns the line, or null
 * when its bytes are not UTF-8; `raw` gives the bytes a rejected line is dead-lettered with.
 */
function parseLines(
  spans: readonly number[],
  lines: readonly number[],
  text: (start: number, end: number) => string | null,
  raw: (lineText: string, start: number, end: number) => Buffer,
): { items: unknown[]; positions: number[]; spans: number[]; early: EarlyReject[] } {
  const out = { items: [] as unknown[], positions: [] as number[], spans: [] as number[], early: [] as EarlyReject[] }
  for (let k = 0; k < lines.length; k++) {
    const start = spans[2 * k]!
    const end = spans[2 * k + 1]!
    const lineText = text(start, end)
    if (lineText === null) {
      out.early.push({ index: lines[k]!, field: '(line)', reason: 'line is not valid UTF-8', raw: raw('', start, end) })
      continue
    }
    try {
      out.items.push(JSON.parse(lineText) as unknown)
      out.positions.push(lines[k]!)
      out.spans.push(start, end)
    } catch (err) {
      out.early.push({ index: lines[k]!, field: '(line)', reason: lineJsonError(lineText, err), raw: raw(lineText, start, end) })
    }
  }
  return out
}

function lineJsonError(line: string, err: unknown): string {
  if (err instanceof RangeError) return 'invalid JSON: nested too deeply to parse'
  const loc = locateJsonError(line)
  return loc.reason === 'no error found' ? 'invalid JSON' : `invalid JSON at column ${loc.column}: ${loc.reason}`
}

function blank(s: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i)
    if (c !== 0x20 && c !== 0x09 && c !== 0x0d) return false
  }
  return true
}

function blankBytes(b: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = b[i]!
    if (c !== 0x20 && c !== 0x09 && c !== 0x0d) return false
  }
  return true
}

function safeSpans(bytes: Buffer, batch: boolean): number[] | null {
  try {
    return elementSpans(bytes, batch)
  } catch {
    return null
  }
}

function safeStringify(v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(v)
  } catch {
    return '(raw bytes unavailable: value nested too deeply to serialize)'
  }
}
