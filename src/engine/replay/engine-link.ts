import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import { threadScript } from '../../thread-script.ts'
import { compareIds } from '../id-order.ts'
import { PartitionsLinked, type ReplayResult } from '../replay.ts'
import { ReplayEngine, type ReplayJob } from './engine-side.ts'
import { chunkJob, type ChunkRead } from './read-chunk.ts'
import type { FromReader, ToReader } from './thread-messages.ts'

const here = dirname(fileURLToPath(import.meta.url))

/** Batches read but not yet applied: what the reader may run ahead of the engine (about 1 MiB each). */
const BATCHES_AHEAD = 4

/** The reading side's handle on a replay's engine: in a thread of its own, in this one, or split across threads. */
export interface EngineLink {
  /** Hands a batch over (shared, never written again); resolves once the engine has room for more. Rejects with PartitionsLinked when a split engine cannot go on. */
  send(buffer: SharedArrayBuffer, length: number): Promise<void>
  /** The latest event time applied so far. */
  latest(): Promise<number>
  /** The result, once every batch is applied and the replay has ended (at `at`, when given). */
  finish(at?: number): Promise<ReplayResult>
  /** Stops the engine's threads (after a failure); a no-op in this thread. */
  close(): Promise<void>
  /**
   * The memory of the oldest batch every engine has applied and kept no event of (none held for the
   * watermark: a held event reads its properties from it later), or null: the reader may write the
   * next chunk's entries into it (./batch.ts).
   */
  released(): SharedArrayBuffer | null
}

/** A link applying one share of the partitions: how many applied batches wait to be taken back (a split engine frees a batch once every share has applied it). */
interface ShareLink extends EngineLink {
  appliedCount(): number
}

/**
 * Chunks read somewhere other than the reading thread (a reader thread, or the engine's thread when
 * it shares the reading), taken back in the order sent.
 */
export interface ChunkReader {
  /** Whether the next chunk should go here rather than be read in the reading thread. */
  wants(): boolean
  /** A chunk of whole lines whose first line is `firstLine`, its entries to go into `memory` when given. */
  send(chunk: Buffer, firstLine: number, memory: SharedArrayBuffer | null): void
  /** Whether the oldest chunk sent is read (take() would not wait). */
  hasRead(): boolean
  /** The oldest chunk sent and not taken back, once read. */
  take(): Promise<ChunkRead>
  close(): Promise<void>
}

/** An engine thread's link; it can read chunks too (`reader`, for a replay whose reading it shares). */
export interface ThreadLink extends ShareLink {
  /** `alternate`: every other chunk from the first, started or not; else whenever the thread has little else queued. */
  reader(partitions: number, alternate: boolean): ChunkReader
}

/**
 * Work queued for an engine thread that also reads, in units of a share's batch to apply: a chunk to
 * read counts for about two (measured on seed 000's workload: reading 0.5 µs an event, half the
 * partitions' engine 0.25). The reading thread gives it the next chunk while its queue is at most
 * this, so that neither thread waits for the other: at the start, while the thread loads, the reading
 * thread reads every chunk, and the thread catches up by applying only.
 */
const READ_WHEN_QUEUED = 2
const READ_WEIGHT = 2

/**
 * The engine in a worker thread, so reading and applying each have a core. `onChanges` gets each
 * batch's --changes lines in input order. The thread's young generation is larger than V8's default
 * (its events are short-lived objects: fewer scavenges, as bin/tagstream.mjs sets for the main thread).
 * `ahead`: batches sent and not yet applied before `send` waits.
 */
export function threadEngine(job: ReplayJob, onChanges: (text: string) => void, ahead = BATCHES_AHEAD, youngMb = 64): ThreadLink {
  const worker = new Worker(threadScript(join(here, 'thread.ts'), 'replay-thread'), { workerData: job, resourceLimits: { maxYoungGenerationSizeMb: youngMb } })
  let started = false
  let unanswered = 0
  let failure: Error | null = null
  let wake: (() => void) | null = null
  let answer: ToReader | null = null
  // Batches sent, and those applied (answered, in the order sent) not taken back yet: null for a
  // batch some of whose events the engine kept.
  const sent: SharedArrayBuffer[] = []
  const applied: Array<SharedArrayBuffer | null> = []
  // Chunks sent to read, and those read not taken back yet.
  let reading = 0
  const read: ChunkRead[] = []
  worker.on('message', (m: ToReader) => {
    if (m.type === 'done' || m.type === 'result') {
      if (m.changes.length > 0) onChanges(m.changes)
    }
    if (m.type === 'done') {
      unanswered--
      const buffer = sent.shift()!
      applied.push(m.kept ? null : buffer)
    } else if (m.type === 'read') {
      reading--
      read.push(m.read)
    } else if (m.type === 'ready') started = true
    else if (m.type === 'linked') failure ??= new PartitionsLinked()
    else answer = m
    wake?.()
  })
  const fail = (err: Error) => {
    failure ??= err
    wake?.()
  }
  worker.once('error', fail)
  worker.once('exit', (code) => fail(new Error(`the replay's engine thread exited with code ${code}`)))
  const waitFor = async (ready: () => boolean) => {
    while (!ready()) {
      if (failure !== null) throw failure
      await new Promise<void>((resolve) => (wake = resolve))
      wake = null
    }
    if (failure !== null) throw failure
  }
  const ask = async (m: FromReader): Promise<ToReader> => {
    answer = null
    worker.postMessage(m)
    await waitFor(() => answer !== null)
    return answer!
  }
  return {
    async send(buffer, length) {
      if (failure !== null) throw failure
      const m: FromReader = { type: 'batch', buffer, length }
      worker.postMessage(m)
      sent.push(buffer)
      unanswered++
      await waitFor(() => unanswered < ahead)
    },
    async latest() {
      const a = await ask({ type: 'latest' })
      return a.type === 'latest' ? a.at : Number.NEGATIVE_INFINITY
    },
    async finish(at) {
      const a = await ask(at === undefined ? { type: 'finish' } : { type: 'finish', at })
      await worker.terminate()
      if (a.type !== 'result') throw new Error(`the replay's engine thread answered ${a.type} to finish`)
      return a.result
    },
    async close() {
      await worker.terminate()
    },
    released: () => applied.shift() ?? null,
    appliedCount: () => applied.length,
    reader: (partitions, alternate) => {
      let turn = 0
      return {
        wants: () => (alternate ? turn++ % 2 === 0 : started && unanswered + READ_WEIGHT * reading <= READ_WHEN_QUEUED),
        send(chunk, firstLine, memory) {
          const m: FromReader = { type: 'read', ...chunkJob(chunk, firstLine, partitions, memory) }
          worker.postMessage(m)
          reading++
        },
        hasRead: () => read.length > 0,
        async take() {
          await waitFor(() => read.length > 0)
          return read.shift()!
        },
        // The thread is the engine's: closing it is the engine's business.
        close: () => Promise.resolve(),
      }
    },
  }
}

/**
 * An engine whose partitions are split across `links`, each applying its share (p % links.length):
 * for a replay whose partitions are independent (no event links two ids). Every share reads every
 * batch (the same shared bytes) and looks for entries that could link partitions: one rejects
 * `send` with PartitionsLinked, and the caller replays on one engine instead. The end is the latest
 * event time over every share, as one engine would have it; the results are added up.
 */
function splitAcross(links: ShareLink[], asOf: number | null): EngineLink {
  const all = <T>(f: (link: EngineLink) => Promise<T>) => Promise.all(links.map(f))
  return {
    async send(buffer, length) {
      await Promise.all(links.map((link) => link.send(buffer, length)))
    },
    async latest() {
      return Math.max(...(await all((link) => link.latest())))
    },
    async finish(at) {
      const end = at ?? asOf ?? (await this.latest())
      return addUp(await all((link) => link.finish(end)))
    },
    async close() {
      await all((link) => link.close())
    },
    // Every share gets the same batches in the same order: the oldest is free once each has applied it.
    released() {
      if (!links.every((link) => link.appliedCount() > 0)) return null
      const taken = links.map((link) => link.released())
      return taken.includes(null) ? null : taken[0]!
    },
  }
}

/**
 * The partitions split between this thread (the even ones) and one engine thread (the odd ones),
 * which also reads chunks whenever it has little else queued (`reader`; with `alternate`, every
 * other chunk, as tests have it so that its reading does not depend on timing): two threads on two cores,
 * each reading about half the file and applying half the partitions of every chunk, with no thread
 * that only waits. Measured on seed 000's workload against a reader thread and two engine threads
 * beside this one: docs/replay.md, "How a file is read".
 */
export function pairedEngine(job: ReplayJob, alternate = false): { engine: EngineLink; reader: ChunkReader } {
  const mine = inlineEngine({ ...job, share: { index: 0, of: 2 } }, () => undefined)
  // The thread may fall behind while it starts (this thread reads every chunk meanwhile): room for it to catch up.
  const thread = threadEngine({ ...job, share: { index: 1, of: 2 } }, () => undefined, 4 * BATCHES_AHEAD)
  return { engine: splitAcross([mine, thread], job.asOf), reader: thread.reader(job.partitions, alternate) }
}

/** One replay's result from the results of its shares of the partitions. */
function addUp(results: ReplayResult[]): ReplayResult {
  const out = { ...results[0]!, members: {} as Record<string, string[]> }
  for (const key of ['events', 'rejected', 'duplicates', 'skipped', 'late', 'lateDropped', 'segmentChanges', 'notifications'] as const) out[key] = results.reduce((a, r) => a + r[key], 0)
  for (const segment of Object.keys(results[0]!.members)) out.members[segment] = results.flatMap((r) => r.members[segment] ?? []).sort(compareIds)
  return out
}

/** The engine in this thread: for inputs too small to be worth a thread's start, or for this thread's share of the partitions. */
export function inlineEngine(job: ReplayJob, onChanges: (text: string) => void): ShareLink {
  const engine = new ReplayEngine(job)
  const changes = (text: string) => {
    if (text.length > 0) onChanges(text)
  }
  // Batches applied, not taken back yet: null for a batch some of whose events the engine kept.
  const applied: Array<SharedArrayBuffer | null> = []
  return {
    send(buffer, length) {
      const done = engine.batch(Buffer.from(buffer, 0, length), length)
      changes(done.changes)
      applied.push(done.kept ? null : buffer)
      return Promise.resolve()
    },
    released: () => applied.shift() ?? null,
    appliedCount: () => applied.length,
    latest: () => Promise.resolve(engine.latest()),
    finish(at) {
      const { result, changes: last } = engine.finish(at)
      changes(last)
      return Promise.resolve(result)
    },
    close: () => Promise.resolve(),
  }
}
