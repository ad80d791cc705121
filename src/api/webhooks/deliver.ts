import type { Logger } from '../../logger.ts'
import type { WireRecord } from '../streams/records.ts'
import { backoffDelay, parseRetryAfter, type BackoffPolicy } from './backoff.ts'

/** One POST: up to `batchSize` records of one partition, named by its offset range. */
export interface Batch {
  topic: string
  partition: number
  records: WireRecord[]
  /** `<topic>:<partition>:<firstOffset>-<lastOffset>`: the same on every retry, and after a restart. */
  idempotencyKey: string
}

export type DeliveryOutcome = 'delivered' | 'dropped' | 'stopped'

export interface DeliveryDeps {
  url: string
  fetch: typeof fetch
  timeoutMs: number
  backoff: BackoffPolicy
  random: () => number
  /** Set when the dispatcher stops: no new request or retry starts, waits between retries end. */
  signal: AbortSignal
  /** Set a grace period after `signal`: aborts a request still in flight (it is re-sent after a restart). */
  hardSignal: AbortSignal
  logger: Logger
  count: (outcome: 'delivered' | 'retried' | 'dropped') => void
}

export function idempotencyKey(topic: string, partition: number, records: readonly WireRecord[]): string {
  return `${topic}:${partition}:${records[0]!.offset}-${records[records.length - 1]!.offset}`
}

/** What to do with a response status. 3xx is retried: following a redirect would turn the POST into a GET. */
export function classifyStatus(status: number): 'ok' | 'retry' | 'drop' {
  if (status >= 200 && status < 300) return 'ok'
  if (status === 408 || status === 429 || status >= 500 || (status >= 300 && status < 400)) return 'retry'
  return 'drop'
}

/**
 * POSTs a batch until the receiver takes it (2xx), refuses it for good (4xx other than 408/429:
 * logged and skipped) or the dispatcher stops. Network errors, timeouts, 5xx, 408, 429 and 3xx are
 * retried forever with exponential backoff, honouring Retry-After: giving up would lose records.
 * A request in flight when the dispatcher stops may still finish (its answer counts) until `hardSignal`.
 */
export async function deliverBatch(batch: Batch, deps: DeliveryDeps): Promise<DeliveryOutcome> {
  const body = JSON.stringify({ records: batch.records })
  const headers = {
    'content-type': 'application/json',
    'idempotency-key': batch.idempotencyKey,
    'x-tagstream-stream': batch.topic,
  }
  const where = { url: redact(deps.url), key: batch.idempotencyKey, records: batch.records.length }
  for (let attempt = 0; ; attempt++) {
    if (deps.signal.aborted) return 'stopped'
    let status: number
    let retryAfter: number | null
    let detail: string
    // One attempt's signal: the hard stop or the attempt's own deadline. Built by hand so the
    // listener on the long-lived hard-stop signal is removed after every attempt.
    const perAttempt = new AbortController()
    const onHardStop = () => perAttempt.abort(deps.hardSignal.reason)
    if (deps.hardSignal.aborted) onHardStop()
    else deps.hardSignal.addEventListener('abort', onHardStop, { once: true })
    const deadline = setTimeout(() => perAttempt.abort(new DOMException(`no answer within ${deps.timeoutMs} ms`, 'TimeoutError')), deps.timeoutMs)
    try {
      const res = await deps.fetch(deps.url, {
        method: 'POST',
        headers,
        body,
        redirect: 'manual',
        signal: perAttempt.signal,
      })
      status = res.status
      retryAfter = parseRetryAfter(res.headers.get('retry-after'))
      // Read the body either way: it frees the connection for reuse, and a refusal's reason is worth logging.
      detail = (await res.text().catch(() => '')).slice(0, 300)
    } catch (err) {
      if (deps.signal.aborted) return 'stopped'
      const delay = backoffDelay(attempt, deps.backoff, deps.random)
      deps.count('retried')
      deps.logger.warn({ ...where, attempt: attempt + 1, err: errorText(err), retryInMs: delay }, 'webhook request failed; retrying')
      await sleep(delay, deps.signal)
      continue
    } finally {
      clearTimeout(deadline)
      deps.hardSignal.removeEventListener('abort', onHardStop)
    }
    const action = classifyStatus(status)
    if (action === 'ok') {
      deps.count('delivered')
      return 'delivered'
    }
    if (action === 'drop') {
      deps.count('dropped')
      deps.logger.error({ ...where, status, response: detail }, 'webhook refused the batch; skipping it')
      return 'dropped'
    }
    if (deps.signal.aborted) return 'stopped'
    const delay = retryAfter ?? backoffDelay(attempt, deps.backoff, deps.random)
    deps.count('retried')
    deps.logger.warn({ ...where, attempt: attempt + 1, status, retryInMs: delay }, 'webhook answered with a retryable status; retrying')
    await sleep(delay, deps.signal)
  }
}

/** The URL without query or credentials: webhook URLs often carry a token. */
export function redact(url: string): string {
  try {
    const u = new URL(url)
    return `${u.protocol}//${u.host}${u.pathname}`
  } catch {
    return '(invalid url)'
  }
}

function errorText(err: unknown): string {
  if (!(err instanceof Error)) return String(err)
  const cause = (err as Error & { cause?: unknown }).cause
  return cause instanceof Error ? `${err.message}: ${cause.message}` : err.message
}

/** Waits `ms`, or less if `signal` aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve()
    const done = () => {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    signal.addEventListener('abort', done, { once: true })
  })
}
