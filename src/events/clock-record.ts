import { CODEC } from './codec.ts'

/*
 * A clock record in a partition of the `events` log: `u8 2 | f64 time`. The engine appends one
 * when its partition is quiet and something is due (docs/engine.md, "Time"), so that time moving
 * with the wall clock is part of the log: a restored partition, or a replay of the log, moves its
 * clock at exactly the same points. Every other reader of the topic skips them.
 */
const SIZE = 9

export function encodeClockRecord(time: number): Buffer {
  const b = Buffer.allocUnsafe(SIZE)
  b[0] = CODEC.CLOCK
  b.writeDoubleLE(time, 1)
  return b
}

export function isClockRecord(b: Uint8Array, start = 0): boolean {
  return b[start] === CODEC.CLOCK
}

/**
 * A record the engine itself writes or reads in the events log, not an event: a clock record, an
 * identity record (src/engine/identity-record.ts), a rules record (src/engine/rules-record.ts) or
 * an erase record (src/events/erase-record.ts). Readers of events skip them.
 */
export function isEngineRecord(b: Uint8Array, start = 0): boolean {
  const first = b[start]
  return first === CODEC.CLOCK || first === CODEC.IDENTITY || first === CODEC.RULES || first === CODEC.ERASE
}

/** The time a clock record carries; call only where isClockRecord holds. */
export function clockRecordTime(b: Buffer, start = 0): number {
  return b.readDoubleLE(start + 1)
}
