import type { ReplayResult } from '../replay.ts'

/**
 * From the reading thread: a batch of entries (./batch.ts), shared; a question for the latest event
 * time applied; or the end of the input (`at`: the replay's end when its partitions are split).
 */
export type FromReader = { type: 'batch'; buffer: SharedArrayBuffer; length: number } | { type: 'latest' } | { type: 'finish'; at?: number }

/**
 * From the engine thread: a batch applied, with its --changes lines; the latest event time; the
 * result after 'finish'; or, for a share of the partitions, an entry that may link two of them.
 */
export type ToReader = { type: 'done'; changes: string; kept: boolean } | { type: 'latest'; at: number } | { type: 'result'; result: ReplayResult; changes: string } | { type: 'linked' }
