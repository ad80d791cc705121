/*
 * Bounds on client-controlled text echoed back or stored: a 10 MB property name must not become a
 * 20 MB error answer, nor a dead letter whose `field` makes a page of them too big to serialize.
 * The bytes as sent are kept whole elsewhere (a dead letter's raw_base64), so nothing is lost.
 */

/** Characters of a field path kept in errors and dead letters. */
export const MAX_FIELD_CHARS = 256
/** Characters of an error message or a dead letter's reason. */
export const MAX_MESSAGE_CHARS = 2_048

const ALREADY = /… \(\d+ chars\)$/

let cuts = 0

/** Texts cut since the process started (tagstream_truncated_texts): each is a bound that held. */
export function truncatedTexts(): number {
  return cuts
}

/**
 * `text` cut to at most `max` characters plus a marker naming the original length, e.g.
 * `aaaa… (10485760 chars)`. The cut never splits a surrogate pair.
 */
export function bounded(text: string, max: number): string {
  if (text.length <= max) return text
  // Already bounded (a rejected event's field, then its error body or dead-letter listing): kept as is.
  if (text.length <= max + 32 && ALREADY.test(text)) return text
  cuts++
  let cut = max
  const code = text.charCodeAt(cut - 1)
  if (code >= 0xd800 && code <= 0xdbff) cut--
  return `${text.slice(0, cut)}… (${text.length} chars)`
}
