import { expect } from 'vitest'
import { appendBatch } from '../../src/ingest/append-batch.ts'
import type { IngestBatch } from '../../src/ingest/batch.ts'
import { bodyText } from '../../src/ingest/body.ts'
import { Deduper } from '../../src/ingest/dedupe.ts'
import type { FastPathOptions } from '../../src/ingest/fast-path-encoder.ts'
import { RequestIds } from '../../src/ingest/ids.ts'
import { ParsedBody } from '../../src/ingest/parse.ts'
import type { RequestFailure } from '../../src/ingest/failure.ts'
import { sortBatch } from '../../src/ingest/sorter.ts'
import { ORIGINAL_TS, decodeEvent } from '../../src/events/index.ts'
import type { AppendRecord, EventLog } from '../../src/log/event-log.ts'
import { T0, rng, type Rng } from './fast-path-bodies.ts'

/*
 * The byte-level readers' correctness argument, shared by ours (fast-path.test.ts) and Segment's
 * (segment-fast-path.test.ts): for thousands of generated bodies, whatever a reader accepts is byte
 * for byte what the general path (parse, sortBatch, appendBatch) produces — the encoded events,
 * their partitions, keys, timestamps and order, the generated ids, the dead letters, the rejections,
 * the duplicates and the dedupe claims — and what it declines the general path refuses or the reader
 * leaves no trace of (claims released).
 */

export const TENANT = 'default'
export const PARTITIONS = 5
export const SEED = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9])

/** Records every append as it would reach the log: topic, partition, and each record's key, bytes and time. */
class RecordingLog {
  appends: Array<{ topic: string; partition: number; records: Array<{ key: string | null; value: string; timestamp: number | undefined }> }> = []
  append(topic: string, partition: number, records: readonly AppendRecord[]) {
    this.appends.push({ topic, partition, records: records.map((r) => ({ key: r.key, value: Buffer.from(r.value).toString('hex'), timestamp: r.timestamp })) })
    return Promise.resolve({ baseOffset: 0, count: records.length })
  }
}

function deduperWith(pre: readonly string[]): Deduper {
  const d = new Deduper({ horizonMs: 60_000, maxEntries: 10_000 })
  const keys = pre.map((id) => Deduper.key(TENANT, id))
  for (const k of keys) d.claim(k, T0)
  d.commit(keys, T0)
  return d
}

interface Outcome {
  appends: RecordingLog['appends']
  accepted: number
  duplicates: number
  rejected: unknown
  claimed: string[]
}

/** What the slow path made of a body, and the batch's own sent_at (not compared: only the fast path's view lacks it). */
type SlowOutcome = Outcome & { sentAt?: number }

/** A format's two readers: the general one (text → ParsedBody) and the byte-level one. */
export interface Readers {
  parse(text: string, bytes: Buffer, maxEvents: number): ParsedBody | RequestFailure
  encode(bytes: Buffer, options: FastPathOptions): IngestBatch | null
  /** The body has the shape the byte-level reader is meant to take (a decline of it is counted as needless). */
  readsShape(bytes: Buffer): boolean
}

async function appended(batch: IngestBatch, deduper: Deduper): Promise<Outcome | 'append failed'> {
  const log = new RecordingLog()
  try {
    await appendBatch(log as unknown as EventLog, PARTITIONS, batch, deduper)
  } catch {
    return 'append failed'
  }
  return { appends: log.appends, accepted: batch.accepted, duplicates: batch.duplicates, rejected: batch.rejected, claimed: batch.claimed }
}

async function slowPath(readers: Readers, bytes: Buffer, receivedAt: number, maxEvents: number, pre: readonly string[]): Promise<SlowOutcome | 'refused' | 'append failed'> {
  const text = bodyText(bytes)
  if (typeof text !== 'string') return 'refused'
  const parsed = readers.parse(text, bytes, maxEvents)
  if (!(parsed instanceof ParsedBody)) return 'refused'
  const deduper = deduperWith(pre)
  const outcome = await appended(sortBatch(parsed, TENANT, receivedAt, PARTITIONS, deduper, new RequestIds(receivedAt, SEED)), deduper)
  if (typeof outcome !== 'string' && parsed.sentAt !== undefined) return { ...outcome, sentAt: parsed.sentAt }
  return outcome
}

/** Runs the byte-level reader on a body: its batch (null when declined) and what appending it gave. */
export async function fastPath(readers: Readers, bytes: Buffer, receivedAt: number, maxEvents: number, pre: readonly string[]) {
  const deduper = deduperWith(pre)
  const body = readers.encode(bytes, { tenant: TENANT, receivedAt, partitions: PARTITIONS, maxEvents, deduper, ids: new RequestIds(receivedAt, SEED) })
  if (body === null) return { outcome: null, body: null, deduper }
  const outcome = await appended(body, deduper)
  if (outcome === 'append failed') throw new Error('a fast-path batch failed to append')
  return { outcome, body, deduper }
}

/** Events of an encoded body whose time the server changed (clamped or corrected): they carry a numeric original_ts. */
function timeChanged(body: IngestBatch): number {
  return body.groups.flat().filter((r) => typeof decodeEvent(r.value).properties[ORIGINAL_TS] === 'number').length
}

/** Runs both readers on `count` bodies made by `make`; returns how the byte-level reader fared. */
export async function differential<O>(readers: Readers, make: (r: Rng, pre: readonly string[], options: O) => Buffer, seed: number, count: number, options: O & { maxEvents: number }) {
  const r = rng(seed)
  const pre = ['pre-1', 'pre-2', 'é-pre']
  const stats = { bodies: 0, accepted: 0, declined: 0, needless: 0, events: 0, slowElements: 0, rejected: 0, duplicates: 0, timeChanged: 0, sentAtRejected: 0, batchSentAt: 0 }
  for (let i = 0; i < count; i++) {
    const bytes = make(r, pre, options)
    const receivedAt = T0 + Math.floor(r() * 1000)
    const slow = await slowPath(readers, bytes, receivedAt, options.maxEvents, pre)
    const fast = await fastPath(readers, bytes, receivedAt, options.maxEvents, pre)
    const where = `seed ${seed}, body ${i}: ${bytes.toString('utf8').slice(0, 300)}`
    stats.bodies++
    if (fast.outcome === null) {
      stats.declined++
      // Declined though the general path takes it: fine for shapes the reader leaves alone, counted for the rest.
      if (typeof slow !== 'string' && readers.readsShape(bytes)) {
        stats.needless++
        if (process.env.FAST_PATH_DEBUG) console.log('needless decline', JSON.stringify(bytes.toString('utf8')))
      }
      if (typeof slow !== 'string' && slow.sentAt !== undefined) stats.batchSentAt++
      // A declined body leaves the horizon as it found it: nothing pending, nothing new.
      expect([fast.deduper.pendingCount, fast.deduper.size], where).toEqual([0, pre.length])
      continue
    }
    expect(slow, where).not.toBe('refused')
    expect(slow, where).not.toBe('append failed')
    const { sentAt, ...compared } = slow as SlowOutcome
    if (sentAt !== undefined) stats.batchSentAt++
    expect(fast.outcome, where).toEqual(compared)
    stats.accepted++
    stats.events += fast.outcome.accepted
    stats.rejected += (fast.outcome.rejected as unknown[]).length
    stats.duplicates += fast.outcome.duplicates
    stats.slowElements += fast.body.validated
    stats.timeChanged += timeChanged(fast.body)
    stats.sentAtRejected += (fast.outcome.rejected as Array<{ field: string }>).filter((x) => x.field === 'sent_at' || x.field === 'sentAt').length
  }
  return stats
}
