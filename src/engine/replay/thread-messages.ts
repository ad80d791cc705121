import type { ReplayResult } from '../replay.ts'
import type { ChunkJob, ChunkRead } from './read-chunk.ts'

/** A chunk of whole lines for the engine's thread to read (when it shares the reading). */
export interface ReadRequest extends ChunkJob {
  type: 'read'
}

/**
 * From the reading thread: a batch of entries (./batch.ts), shared; a chunk to read; a question for
 * the latest event time applied; or the end of the input (`at`: the replay's end when its
 * partitions are split).
 */
export type FromReader = { type: 'batch'; buffer: SharedArrayBuffer; length: number } | ReadRequest | { type: 'latest' } | { type: 'finish'; at?: number }

/**
 * From the engine thread: started; a batch applied, with its --changes lines; a chunk read; the
 * latest event time; the result after 'finish'; or, for a share of the partitions, an entry that
 * may link two of them.
 */
export type ToReader =
  | { type: 'ready' }
  | { type: 'done'; changes: string; kept: boolean }
  | { type: 'read'; read: ChunkRead }
  | { type: 'latest'; at: number }
  | { type: 'result'; result: ReplayResult; changes: string }
  | { type: 'linked' }
