import { sharedBuffer } from '../../ordered-pool.ts'

/*
 * Events on their way from a replay's reader to its engine: one buffer per chunk of input, shared
 * (not copied) with the engine's threads: a SharedArrayBuffer, so two threads (partitions split)
 * read the same bytes. A buffer is written once, then only read. Each entry is
 *
 *   u8 kind | u16 partition | u32 length | bytes (little-endian)
 *
 * kind 0: the log's binary encoding (src/events/codec.ts); kind 1: the validated event as JSON, for
 * the rare event the binary layout cannot hold (a property name over 255 bytes).
 */

export const ENTRY_BINARY = 0
export const ENTRY_JSON = 1
export const ENTRY_HEADER = 7
/** The partition of an entry that is not to be applied (a repeated client event id, ./repeats.ts). */
export const DROPPED = 0xffff

/** The entry at bytes[at]: its partition. */
export function entryPartition(bytes: Uint8Array, at: number): number {
  return bytes[at + 1]! | (bytes[at + 2]! << 8)
}

/** The entry at bytes[at]: the end of its bytes (they start at at + ENTRY_HEADER). */
export function entryEnd(bytes: Uint8Array, at: number): number {
  return at + ENTRY_HEADER + (bytes[at + 3]! | (bytes[at + 4]! << 8) | (bytes[at + 5]! << 16)) + bytes[at + 6]! * 0x1000000
}

/**
 * One chunk's entries, in a growable shared buffer: new memory, or a batch's memory the engines are
 * done with (written again rather than new memory mapped, and its pages faulted in, for every chunk:
 * measured, reading seed 000's workload took 0.51 µs an event into reused memory, 0.58 into new).
 */
export class BatchWriter {
  bytes: Buffer
  view: DataView
  used = 0
  count = 0
  /** Offsets of the entries whose event carries the client's own event_id: what de-duplication looks at. */
  clientIds: number[] = []

  constructor(size: number, memory: SharedArrayBuffer | null = null) {
    this.bytes = memory !== null && memory.byteLength >= size ? Buffer.from(memory) : sharedBuffer(size)
    this.view = new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength)
  }

  /** Room for an entry of `length` bytes: the offset its bytes go to (after its header). */
  reserve(kind: number, partition: number, length: number): number {
    const need = this.used + ENTRY_HEADER + length
    if (need > this.bytes.length) {
      const bigger = sharedBuffer(Math.max(2 * this.bytes.length, need))
      this.bytes.copy(bigger, 0, 0, this.used)
      this.bytes = bigger
      this.view = new DataView(bigger.buffer, bigger.byteOffset, bigger.byteLength)
    }
    const at = this.used
    this.bytes[at] = kind
    this.view.setUint16(at + 1, partition, true)
    this.view.setUint32(at + 3, length, true)
    this.count++
    return at + ENTRY_HEADER
  }

  /** Ends the entry whose bytes end at `end` (≤ what was reserved). */
  close(start: number, end: number): void {
    this.view.setUint32(start - 4, end - start, true)
    this.used = end
  }

  /** The entries written: their buffer (shared), its length used, how many, and those with a client id. */
  written(): { buffer: SharedArrayBuffer; length: number; count: number; clientIds: number[] } {
    return { buffer: this.bytes.buffer as SharedArrayBuffer, length: this.used, count: this.count, clientIds: this.clientIds }
  }
}
