import type { EngineSnapshot } from '../../engine/thread/protocol.ts'
import type { ServerConfig } from '../config.ts'
import { failure, type RequestFailure } from '../../ingest/failure.ts'

/*
 * Backpressure, checked before a body is read: a collector that keeps accepting while its appends
 * pile up runs out of memory, and one that accepts faster than the engine processes makes segments
 * stale by minutes. Both answers carry Retry-After so SDKs back off instead of hammering.
 *
 *   429 overloaded      bytes of bodies in flight + this body > maxInflightBytes
 *   503 engine_lagging  some partition's engine lag (log end − next offset) > maxEngineLag
 *
 * One request is always admitted when nothing is in flight, so a body larger than maxInflightBytes
 * (but within maxBodyBytes) is slow rather than refused forever.
 */

export type BackpressureLimits = ServerConfig['backpressure']

/** Largest engine lag over all partitions, in events. */
export function maxEngineLag(snapshot: Pick<EngineSnapshot, 'partitions'>): number {
  let worst = 0
  for (const p of snapshot.partitions) {
    const lag = p.end - p.nextOffset
    if (lag > worst) worst = lag
  }
  return worst
}

/** null when the request may proceed, else the refusal to send (with `retryAfter` seconds). */
export function checkBackpressure(inflightBytes: number, bodyBytes: number, snapshot: Pick<EngineSnapshot, 'partitions'>, limits: BackpressureLimits): RequestFailure | null {
  if (inflightBytes > 0 && inflightBytes + bodyBytes > limits.maxInflightBytes) {
    return {
      ...failure(429, 'overloaded', `the collector has ${inflightBytes} bytes of requests in flight (limit ${limits.maxInflightBytes}); retry after ${limits.retryAfterSeconds} s`),
      retryAfter: limits.retryAfterSeconds,
    }
  }
  const lag = maxEngineLag(snapshot)
  if (lag > limits.maxEngineLag) {
    return {
      ...failure(503, 'engine_lagging', `the segmentation engine is ${lag} events behind the log (limit ${limits.maxEngineLag}); retry after ${limits.retryAfterSeconds} s`),
      retryAfter: limits.retryAfterSeconds,
    }
  }
  return null
}
