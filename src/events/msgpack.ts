import { createRequire } from 'node:module'
import type * as Msgpackr from 'msgpackr'

/*
 * msgpackr (the records' bodies: identity links, snapshots, erasures, rule sets), loaded when a
 * record is first packed or unpacked rather than when the modules that write them are imported: a
 * thread that never writes one (a replay's engine threads) does not load it and its native part
 * (about 15 ms of CPU at each such thread's start, measured).
 */

let lib: typeof Msgpackr | undefined
const msgpackr = (): typeof Msgpackr => (lib ??= createRequire(import.meta.url)('msgpackr') as typeof Msgpackr)

export function pack(value: unknown): Buffer {
  return msgpackr().pack(value)
}

export function unpack(bytes: Buffer | Uint8Array): unknown {
  return msgpackr().unpack(bytes) as unknown
}
