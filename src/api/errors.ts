import type { FastifyReply } from 'fastify'
import { MAX_FIELD_CHARS, MAX_MESSAGE_CHARS, bounded } from '../ingest/text-bounds.ts'

/** Every error response has this shape, so clients handle one thing. */
export interface ErrorBody {
  error: { code: string; message: string; field?: string }
}

/** Message and field are bounded: either may quote client input of any size. */
export function errorBody(code: string, message: string, field?: string): ErrorBody {
  const m = bounded(message, MAX_MESSAGE_CHARS)
  return { error: field === undefined ? { code, message: m } : { code, message: m, field: bounded(field, MAX_FIELD_CHARS) } }
}

export function sendError(reply: FastifyReply, status: number, code: string, message: string, field?: string): FastifyReply {
  return reply
    .code(status)
    .type('application/json')
    .send(errorBody(code, message, field))
}
