import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { OrderedPool } from '../../ordered-pool.ts'
import { threadScript } from '../../thread-script.ts'
import type { ChunkReader } from './engine-link.ts'
import { chunkJob, type ChunkJob, type ChunkRead } from './read-chunk.ts'

const here = dirname(fileURLToPath(import.meta.url))

/** A chunk for a reader thread, numbered in the order sent. */
export interface ReadJob extends ChunkJob {
  seq: number
}

export type ReadDone = ChunkRead & { seq: number }

/**
 * Reader threads for a replay: chunk k goes to thread k mod n, and the chunks read come back in file
 * order, so reading (the collector's byte-level reader, most of a replay's work but the engine's)
 * uses more than one core. The caller numbers the lines: each chunk's first line is the count of
 * line breaks before it.
 */
export class ReadPool implements ChunkReader {
  private readonly pool: OrderedPool<ReadJob, ReadDone>
  private turn = 0

  constructor(
    private readonly threads: number,
    private readonly partitions: number,
  ) {
    this.pool = new OrderedPool(threadScript(join(here, 'reader-thread.ts'), 'replay-reader-thread'), threads, 'a replay reader')
  }

  /** Chunks in turns: each thread of the pool, then the reading thread (which would mostly wait otherwise). */
  wants(): boolean {
    return this.turn++ % (this.threads + 1) !== this.threads
  }

  hasRead(): boolean {
    return this.pool.hasNext
  }

  /** Sends a chunk of whole lines whose first line is `firstLine`, its entries to go into `memory` when it is given. */
  send(chunk: Buffer, firstLine: number, memory: SharedArrayBuffer | null): void {
    this.pool.send(chunkJob(chunk, firstLine, this.partitions, memory))
  }

  /** The next chunk in file order, once read. */
  take(): Promise<ChunkRead> {
    return this.pool.take()
  }

  close(): Promise<void> {
    return this.pool.close()
  }
}
