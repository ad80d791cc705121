import { sharedBuffer } from '../../ordered-pool.ts'

/*
 * Events on their way from a replay's reader to its engine: one buffer per chunk of input, shared
 * (not copied) with the engine's threads: a SharedArrayBuffer, so two engine threads (partitions
 * split) read the same bytes. A buffer is written once, then only read. Each entry is
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

/** A growable buffer of entries; `take()` hands it over and starts a new one. */
/** The entry at bytes[at]: its partition. */
export function entryPartition(bytes: Uint8Array, at: number): number {
  return bytes[at + 1]! | (bytes[at + 2]! << 8)
}

/** The entry at bytes[at]: the end of its bytes (they start at at + ENTRY_HEADER). */
export function entryEnd(bytes: Uint8Array, at: number): number {
  return at + ENTRY_HEADER + (bytes[at + 3]! | (bytes[at + 4]! << 8) | (bytes[at + 5]! << 16)) + bytes[at + 6]! * 0x1000000
}

export class BatchWriter {
  bytes: Buffer
  view: DataView
  used = 0
  count = 0
  /** Offsets of the entries whose event carries the client's own event_id: what de-duplication looks at. */
  clientIds: number[] = []

  constructor(private readonly initial = 1 << 20) {
    this.bytes = sharedBuffer(initial)
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

  /**
   * The entries so far, as an ArrayBuffer of its own and its length; the writer starts anew, with
   * room for `next` bytes (the next batch's likely size: growing a buffer copies it).
   */
  take(next = this.initial): { buffer: SharedArrayBuffer; length: number; count: number; clientIds: number[] } {
    const out = { buffer: this.bytes.buffer as SharedArrayBuffer, length: this.used, count: this.count, clientIds: this.clientIds }
    this.clientIds = []
    this.bytes = sharedBuffer(Math.max(next, 4096))
    this.view = new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength)
    this.used = 0
    this.count = 0
    return out
  }
}
