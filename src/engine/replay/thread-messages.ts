import type { ReplayResult } from '../replay.ts'

/** From the reading thread: a batch of entries (./batch.ts), moved; or the end of the input. */
export type FromReader = { type: 'batch'; buffer: ArrayBuffer; length: number } | { type: 'finish' }

/** From the engine thread: a batch applied, with its --changes lines; or the result after 'finish'. */
export type ToReader = { type: 'done'; changes: string } | { type: 'result'; result: ReplayResult; changes: string }
