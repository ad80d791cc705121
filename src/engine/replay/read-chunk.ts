import { shareable, type SharedBytes } from '../../ordered-pool.ts'
import { BatchWriter } from './batch.ts'
import { ReplayInput, type InputCounts } from './input.ts'
import { ReplayReader } from './reader.ts'

/** A chunk of a replay's input read: its entries (a shared buffer), the client-id entries, its line count and rejections. */
export interface ChunkRead {
  buffer: SharedArrayBuffer
  length: number
  count: number
  /** Offsets of the entries carrying a client event_id, for de-duplication in file order (./repeats.ts). */
  clientIds: number[]
  lines: number
  /** This chunk's rejections; duplicates are not known yet (0). */
  counts: InputCounts
}

/**
 * Reads one chunk of whole lines, the first numbered `firstLine`: the same work in the reading
 * thread or in a reader thread (./reader-thread.ts). The entries go into `memory` (a batch the
 * engines are done with) when it is large enough, else into new memory.
 */
export function readChunk(chunk: Buffer, firstLine: number, partitions: number, memory: SharedArrayBuffer | null = null): ChunkRead {
  // Repeats are dropped later, in file order, over every chunk: none here.
  const input = new ReplayInput(0)
  const batch = new BatchWriter(batchSize(chunk.length), memory)
  const lines = ReplayReader.read(chunk, firstLine, input, batch, partitions)
  return { ...batch.written(), lines, counts: input.counts }
}

/** A chunk for another thread to read (a reader thread, or an engine thread that shares the reading): its bytes, shared, and what readChunk takes besides. */
export interface ChunkJob extends SharedBytes {
  firstLine: number
  partitions: number
  /** A batch's memory to write the entries into, or null for new memory. */
  memory: SharedArrayBuffer | null
}

/** The job for a chunk of whole lines whose first line is `firstLine` (its bytes shared, not copied, when they lie in shared memory). */
export function chunkJob(chunk: Buffer, firstLine: number, partitions: number, memory: SharedArrayBuffer | null): ChunkJob {
  return { ...shareable(chunk), firstLine, partitions, memory }
}

/** Reads a chunk sent to this thread. */
export function readChunkJob(job: ChunkJob): ChunkRead {
  return readChunk(Buffer.from(job.chunk, job.offset, job.length), job.firstLine, job.partitions, job.memory)
}

/**
 * Room for a chunk's entries: its lines' bytes and a quarter more (an entry is about its line's
 * size), in whole 64 KiB, so that chunks a few bytes apart in size (cut at line ends) fit each
 * other's memory.
 */
function batchSize(chunkBytes: number): number {
  return Math.ceil((chunkBytes + (chunkBytes >> 2) + 4096) / 65536) * 65536
}
