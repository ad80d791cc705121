import type { FastifyReply } from 'fastify'
import { MAX_ID_LENGTH } from '../../events/envelope.ts'
import { sendError } from '../errors.ts'

/**
 * A user id taken from a path: false after answering 400 naming `user_id` when it is not 1 to
 * MAX_ID_LENGTH characters (the router refuses a segment over 100 first, with 414). The export and
 * inbox routes check it here, not in their schemas, so the answer names the field as theirs do.
 */
export function checkUserIdParam(reply: FastifyReply, id: string): boolean {
  if (id.length > 0 && id.length <= MAX_ID_LENGTH) return true
  void sendError(reply, 400, 'invalid_request', `a user id is 1 to ${MAX_ID_LENGTH} characters; this one has ${id.length}`, 'user_id')
  return false
}
