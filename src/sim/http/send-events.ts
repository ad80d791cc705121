import type { RawEvent } from '../raw-event.ts'
import { errorText, sleep, type HttpTarget } from './client.ts'
import { Pacer } from './pacer.ts'
import { newStats, sample, type SendStats } from './stats.ts'

export interface SendEventsOptions {
  target: HttpTarget
  /** The API key an event is sent with: its tenant is the key's. */
  keyFor: (e: RawEvent) => string
  /** Events per request. */
  batch: number
  /** Requests in flight at most. */
  concurrency: number
  /** Events per second; 0 = flat out. */
  rate: number
  /** Stop after this many events (default: when the source ends). */
  limit?: number
  /** A partly filled batch goes out once its oldest event has waited this long (paced sending only). */
  lingerMs?: number
  signal?: AbortSignal
  onProgress?: (stats: SendStats) => void
}

interface Pending {
  lines: string[]
  since: number
}

export const DEFAULT_LINGER_MS = 200

/**
 * Sends events to POST /v1/events in batches, one batch per API key, `concurrency` requests in
 * flight, paced at `rate` events/s or flat out. 429 and 503 answers are retried after their
 * Retry-After; any other error answer stops the run (it means a wrong key, URL or event, which
 * retrying cannot fix). Aborting stops generating, lets requests in flight finish, and resolves.
 */
export async function sendEvents(source: Iterator<RawEvent>, o: SendEventsOptions): Promise<SendStats> {
  const stats = newStats()
  const pacer = new Pacer(o.rate)
  const linger = o.lingerMs ?? DEFAULT_LINGER_MS
  const limit = o.limit ?? Number.POSITIVE_INFINITY
  const pending = new Map<string, Pending>()
  const inflight = new Set<Promise<void>>()
  let failure: Error | null = null

  const post = async (key: string, lines: string[]): Promise<void> => {
    const body = `[${lines.join(',')}]`
    const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' }
    for (;;) {
      const answer = await o.target.post('/v1/events', headers, body)
      stats.requests++
      if (answer.status === 200) {
        const r = JSON.parse(answer.text) as { accepted: number; duplicates: number; rejected: Array<{ index: number; error: string }> }
        stats.accepted += r.accepted
        stats.duplicates += r.duplicates
        stats.rejected += r.rejected.length
        for (const x of r.rejected) sample(stats, `rejected event: ${x.error}`)
        o.onProgress?.(stats)
        return
      }
      if ((answer.status === 429 || answer.status === 503) && !o.signal?.aborted) {
        stats.retries++
        await sleep((answer.retryAfter ?? 1) * 1000, o.signal)
        if (!o.signal?.aborted) continue
      }
      throw new Error(`POST ${o.target.origin}/v1/events answered ${errorText(answer)}`)
    }
  }

  const dispatch = async (key: string, lines: string[]): Promise<void> => {
    while (inflight.size >= o.concurrency) await Promise.race(inflight)
    if (failure) return
    stats.sent += lines.length
    const p: Promise<void> = post(key, lines)
      .catch((err: unknown) => void (failure ??= err as Error))
      .finally(() => inflight.delete(p))
    inflight.add(p)
  }

  const flush = async (olderThan: number): Promise<void> => {
    for (const [key, b] of pending) {
      if (b.since > olderThan) continue
      pending.delete(key)
      await dispatch(key, b.lines)
    }
  }

  let produced = 0
  let exhausted = false
  while (!o.signal?.aborted && !failure && !exhausted && produced < limit) {
    const n = Math.min(o.batch, limit - produced, pacer.due(produced))
    if (n === 0) {
      await flush(performance.now() - linger)
      await sleep(Math.max(2, pacer.msUntilNext(produced)), o.signal)
      continue
    }
    for (let i = 0; i < n; i++) {
      const next = source.next()
      if (next.done) {
        exhausted = true
        break
      }
      produced++
      const key = o.keyFor(next.value)
      let b = pending.get(key)
      if (!b) pending.set(key, (b = { lines: [], since: performance.now() }))
      b.lines.push(JSON.stringify(next.value))
      if (b.lines.length >= o.batch) {
        pending.delete(key)
        await dispatch(key, b.lines)
      }
    }
  }
  // An aborted run drops its partial batches: the events were never acknowledged, only generated.
  if (!o.signal?.aborted && !failure) await flush(Number.POSITIVE_INFINITY)
  await Promise.all(inflight)
  if (failure) throw failure
  return stats
}
