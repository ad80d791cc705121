import { Worker } from 'node:worker_threads'

/*
 * Worker threads that take jobs in turns and whose answers are taken back in the order the jobs were
 * sent: the bulk readers (`tagstream replay`, `tagstream ingest`) read chunks of a file on several
 * cores and still hand them on in file order. Each thread script answers every job with one message
 * carrying the job's `seq`.
 */

/** Jobs waiting for each thread ahead of the one it is on. */
const AHEAD_PER_THREAD = 2

export class OrderedPool<Job extends { seq: number }, Done extends { seq: number }> {
  private readonly workers: Worker[]
  private sent = 0
  private next = 0
  private readonly done = new Map<number, Done>()
  private failure: Error | null = null
  private wake: (() => void) | null = null

  constructor(script: string, threads: number, what: string) {
    this.workers = Array.from({ length: threads }, () => {
      const w = new Worker(script)
      w.on('message', (m: Done) => {
        this.done.set(m.seq, m)
        this.wake?.()
      })
      w.once('error', (err) => this.fail(err))
      w.once('exit', (code) => this.fail(new Error(`${what} thread exited with code ${code}`)))
      return w
    })
  }

  /** Jobs sent and not yet taken back. */
  get pending(): number {
    return this.sent - this.next
  }

  /** Whether the oldest job's answer is there (take() would not wait). */
  get hasNext(): boolean {
    return this.done.has(this.next)
  }

  /** Whether the threads have enough to do: take an answer back before sending more. */
  get full(): boolean {
    return this.pending >= this.workers.length * AHEAD_PER_THREAD
  }

  /** Sends a job to the next thread in turn, numbered (its `seq`) in the order jobs are sent. */
  send(job: Omit<Job, 'seq'>): void {
    this.workers[this.sent % this.workers.length]!.postMessage({ ...job, seq: this.sent })
    this.sent++
  }

  /** The answer to the oldest job not taken back, once there. */
  async take(): Promise<Done> {
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
    this.failure ??= new Error('the pool is closed')
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

/** Bytes another thread can read: [offset, offset + length) of `chunk`. */
export interface SharedBytes {
  chunk: SharedArrayBuffer
  offset: number
  length: number
}

/** The bytes as SharedBytes: their own memory when it is shared already (src/cli/read-lines.ts reads into such memory), else a copy. */
export function shareable(bytes: Buffer): SharedBytes {
  if (bytes.buffer instanceof SharedArrayBuffer) return { chunk: bytes.buffer, offset: bytes.byteOffset, length: bytes.length }
  const copy = sharedBuffer(bytes.length)
  bytes.copy(copy)
  return { chunk: copy.buffer as SharedArrayBuffer, offset: 0, length: bytes.length }
}

/** A Buffer over new memory that other threads can read too (a SharedArrayBuffer of `size` bytes). */
export function sharedBuffer(size: number): Buffer {
  return Buffer.from(new SharedArrayBuffer(size))
}
