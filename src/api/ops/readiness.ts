import type { EngineSnapshot } from '../../engine/thread/protocol.ts'
import { totalLag } from './engine-gauges.ts'

export type ReadinessBody = { status: 'ready'; lag: number; partitions: number } | { status: 'starting' | 'failed'; error: string | null }

export interface Readiness {
  statusCode: 200 | 503
  body: ReadinessBody
}

/**
 * Ready = the engine thread runs (snapshot.ready: log and state opened, checkpoints restored, rules
 * compiled) and has not failed. A backlog does not make it unready: that is what the collector's
 * backpressure is for; `lag` says how big it is. A failure wins over `ready`: a failed engine no
 * longer applies events, so traffic should go elsewhere.
 */
export function readiness(snapshot: EngineSnapshot): Readiness {
  if (snapshot.error !== null) return { statusCode: 503, body: { status: 'failed', error: snapshot.error } }
  if (!snapshot.ready) return { statusCode: 503, body: { status: 'starting', error: null } }
  return { statusCode: 200, body: { status: 'ready', lag: totalLag(snapshot), partitions: snapshot.partitions.length } }
}
