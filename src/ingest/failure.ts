/** A request-level refusal: the whole request is answered with this status and error body. */
export interface RequestFailure {
  status: number
  code: string
  message: string
  field?: string
  /** Seconds for a Retry-After header (backpressure). */
  retryAfter?: number
  /** Close the connection after answering: the rest of a stalled or refused body is not worth reading. */
  close?: true
  /** Which resource limit refused it, for tagstream_limit_hits_total{limit}. */
  limit?: string
}

export function failure(status: number, code: string, message: string, field?: string): RequestFailure {
  return field === undefined ? { status, code, message } : { status, code, message, field }
}
