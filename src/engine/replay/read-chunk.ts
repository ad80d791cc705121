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
 * thread or in a reader thread (./reader-thread.ts). `sizeHint`: bytes the batch likely needs.
 */
export function readChunk(chunk: Buffer, firstLine: number, partitions: number, sizeHint = chunk.length): ChunkRead {
  // Repeats are dropped later, in file order, over every chunk: none here.
  const input = new ReplayInput(0)
  const batch = new BatchWriter(sizeHint + (sizeHint >> 2) + 4096)
  const lines = ReplayReader.read(chunk, firstLine, input, batch, partitions)
  const { buffer, length, count, clientIds } = batch.take(0)
  return { buffer, length, count, clientIds, lines, counts: input.counts }
}
