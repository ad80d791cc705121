import { bounded } from '../../ingest/text-bounds.ts'

/**
 * The `next` / `cursor` of the profile and member lists: the last user id of the page, made opaque
 * (`u.` + base64url of its UTF-8), so that a cursor no page ever handed out is refused with a 400
 * instead of being read as some user id and answered with a page that means nothing.
 */
const SHAPE = /^u\.[A-Za-z0-9_-]*$/

export function encodePageCursor(userId: string): string {
  return `u.${Buffer.from(userId, 'utf8').toString('base64url')}`
}

export type CursorRead = { ok: true; userId: string | undefined } | { ok: false; message: string }

/** Reads a cursor query parameter (absent: the first page). Only what encodePageCursor wrote is accepted. */
export function decodePageCursor(cursor: string | undefined): CursorRead {
  if (cursor === undefined) return { ok: true, userId: undefined }
  const refuse = (): CursorRead => ({ ok: false, message: `cursor must be the "next" value of a previous page, got "${bounded(cursor, 100)}"` })
  if (!SHAPE.test(cursor)) return refuse()
  const userId = Buffer.from(cursor.slice(2), 'base64url').toString('utf8')
  // Canonical form only: padding-free base64url of valid UTF-8 round-trips to the same text.
  return userId.length > 0 && encodePageCursor(userId) === cursor ? { ok: true, userId } : refuse()
}
