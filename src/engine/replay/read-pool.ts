import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import { threadScript } from '../../thread-script.ts'
import type { ChunkRead } from './read-chunk.ts'

const here = dirname(fileURLToPath(import.meta.url))

/** A chunk for a reader thread: its bytes (a copy, shared) and its first line's number. */
export interface ReadJob {
  seq: number
  chunk: SharedArrayBuffer
  length: number
  firstLine: number
  partitions: number
}

export type ReadDone = ChunkRead & { seq: number }

/** Chunks handed to each reader thread ahead of the one it is on. */
const AHEAD_PER_THREAD = 2

/**
 * Reader threads for a replay: chunk k goes to thread k mod n, and the chunks read come back in file
 * order, so reading (the collector's byte-level reader, most of a replay's work but the engine's)
 * uses more than one core. The caller numbers the lines: each chunk's first line is the count of
 * line breaks before it.
 */
export class ReadPool {
  private readonly workers: Worker[]
  private sent = 0
  private next = 0
  private readonly done = new Map<number, ReadDone>()
  private failure: Error | null = null
  private wake: (() => void) | null = null

  constructor(
    threads: number,
    private readonly partitions: number,
  ) {
    this.workers = Array.from({ length: threads }, () => {
      const w = new Worker(threadScript(join(here, 'reader-thread.ts'), 'replay-reader-thread'))
      w.on('message', (m: ReadDone) => {
        this.done.set(m.seq, m)
        this.wake?.()
      })
      w.once('error', (err) => this.fail(err))
      w.once('exit', (code) => this.fail(new Error(`a replay reader thread exited with code ${code}`)))
      return w
    })
  }

  /** Chunks sent and not yet taken back. */
  get pending(): number {
    return this.sent - this.next
  }

  /** Whether another chunk may be sent before one is taken back. */
  get full(): boolean {
    return this.pending >= this.workers.length * AHEAD_PER_THREAD
  }

  /** Sends a chunk of whole lines whose first line is `firstLine`. */
  send(chunk: Buffer, firstLine: number): void {
    const copy = new SharedArrayBuffer(chunk.length)
    chunk.copy(Buffer.from(copy))
    const job: ReadJob = { seq: this.sent, chunk: copy, length: chunk.length, firstLine, partitions: this.partitions }
    this.workers[this.sent % this.workers.length]!.postMessage(job)
    this.sent++
  }

  /** The next chunk in file order, once read. */
  async take(): Promise<ChunkRead> {
    for (;;) {
      if (this.failure !== null) throw this.failure
      const got = this.done.get(this.next)
      if (got !== undefined) {
        this.done.delete(this.next++)
        return got
      }
      await new Promise<void>((resolve) => (this.wake = resolve))
      this.wake = null
    }
  }

  async close(): Promise<void> {
    this.failure ??= new Error('the read pool is closed')
    await Promise.all(this.workers.map((w) => w.terminate()))
  }

  private fail(err: Error): void {
    this.failure ??= err
    this.wake?.()
  }
}

/** Lines in a chunk of whole lines: its line breaks, and a last line without one. */
export function countLines(chunk: Buffer): number {
  let n = 0
  for (let i = chunk.indexOf(0x0a); i >= 0; i = chunk.indexOf(0x0a, i + 1)) n++
  return chunk.length > 0 && chunk[chunk.length - 1] !== 0x0a ? n + 1 : n
}
