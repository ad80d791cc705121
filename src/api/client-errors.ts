import { STATUS_CODES } from 'node:http'
import type { Socket } from 'node:net'
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { errorBody } from './errors.ts'

/**
 * Requests Node refuses before Fastify sees them (headers or URL over Node's 16 KiB, a request
 * deadline, a malformed request line): answered in the API's own error shape, `{"error":{"code",
 * "message"}}`, instead of Fastify's `{"statusCode","error","message"}`.
 */
export function clientErrorHandler(err: Error & { code?: string }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return
  const [status, code, message] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'headers_too_large', 'the request line and headers are larger than 16 KiB']
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'request_timeout', 'the request took longer than the server allows']
        : [400, 'bad_request', 'the request is not valid HTTP']
  if (socket.writable) {
    const body = JSON.stringify(errorBody(code, message))
    socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n${body}`)
  }
  socket.destroy(err)
}

/** Router refusals (a path parameter over maxParamLength, a URL that does not decode) in the API's shape. */
export function frameworkErrors(err: FastifyError, _req: FastifyRequest, reply: FastifyReply): void {
  if (err.code === 'FST_ERR_MAX_PARAM_LENGTH') void reply.code(414).send(errorBody('uri_too_long', 'a path segment is longer than 100 characters'))
  else if (err.code === 'FST_ERR_BAD_URL') void reply.code(400).send(errorBody('bad_url', 'the URL does not decode'))
  else void reply.code(err.statusCode ?? 400).send(errorBody((err.code ?? 'bad_request').toLowerCase(), err.message))
}
