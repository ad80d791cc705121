import { pathOfTag, type StreamKind } from './kinds.ts'

/**
 * A stream cursor names, for every partition, the next offset the client has not seen:
 * `v1.<tag>.<o0>.<o1>…` with offsets in base 36 (tags: kinds.ts) (`v1.s.0.2s.1b` = segment-changes, partitions at
 * 0, 100, 47). The stream tag keeps a notifications cursor from silently skipping around in
 * segment-changes. Every SSE event's id is the cursor just after that event.
 */
export const CURSOR_VERSION = 'v1'

const OFFSET = /^(0|[1-9a-z][0-9a-z]*)$/

export class CursorError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'CursorError'
  }
}

export function encodeCursor(kind: StreamKind, offsets: readonly number[]): string {
  let s = `${CURSOR_VERSION}.${kind.tag}`
  for (const o of offsets) s += `.${o.toString(36)}`
  return s
}

/** Parses a cursor of `kind` over `partitions` partitions; throws CursorError naming what is wrong. */
export function decodeCursor(kind: StreamKind, partitions: number, cursor: string): number[] {
  const shown = cursor.length > 80 ? `${cursor.slice(0, 80)}…` : cursor
  const parts = cursor.split('.')
  if (parts[0] !== CURSOR_VERSION) {
    throw new CursorError(`cursor "${shown}" must start with "${CURSOR_VERSION}." (use an event id this server sent, "earliest" or "now")`)
  }
  const tag = parts[1]
  if (tag !== kind.tag) {
    const other = tag === undefined ? null : pathOfTag(tag)
    throw new CursorError(other ? `cursor "${shown}" belongs to /v1/${other}, not /v1/${kind.path}` : `cursor "${shown}" has an unknown stream tag "${tag ?? ''}" (expected "${kind.tag}")`)
  }
  const raw = parts.slice(2)
  if (raw.length !== partitions) {
    throw new CursorError(`cursor "${shown}" has ${raw.length} partition offset${raw.length === 1 ? '' : 's'}; this stream has ${partitions} partitions`)
  }
  return raw.map((text, p) => {
    const n = OFFSET.test(text) ? parseInt(text, 36) : NaN
    if (!Number.isSafeInteger(n)) throw new CursorError(`cursor "${shown}": the offset of partition ${p} ("${text}") is not a base-36 number`)
    return n
  })
}
