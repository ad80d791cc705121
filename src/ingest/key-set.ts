import { randomInt } from 'node:crypto'
import { sameRange } from './fast-path-bytes.ts'

/*
 * The property keys of the element a byte-level reader is reading, by their place in the body: a
 * repeated key sends the element to the slow path (JSON.parse keeps the last value, in the first
 * key's place). A scan over the keys so far cost k² comparisons an element, which a client sending
 * hundreds of same-length keys in thousands of events turned into seconds of the collector's one
 * thread. The first few keys are still compared one by one (cheapest for the few keys nearly every
 * event has); past them the keys go into an open-addressing table, its hash seeded per process so a
 * client cannot aim keys at one slot, and a probe that still runs long answers "repeated" (the slow
 * path, which is always right, takes the element).
 */

const SLOTS = 1024
const MASK = SLOTS - 1
/** Probes before giving up on an element: far more than honest keys ever need at this load. */
const MAX_PROBES = 16
/** Keys compared one by one before the table is used. */
const LINEAR = 8
const SEED = randomInt(0x7fffffff)

export class KeySet {
  private readonly at: Int32Array
  private readonly len: Int32Array
  private readonly slot = new Int32Array(SLOTS)
  private readonly stamp = new Uint32Array(SLOTS)
  private epoch = 1
  private count = 0

  /** `max`: most keys an element holds (a slot table of SLOTS stays at most half full). */
  constructor(max: number) {
    if (2 * max > SLOTS) throw new Error(`KeySet holds at most ${SLOTS / 2} keys`)
    this.at = new Int32Array(max)
    this.len = new Int32Array(max)
  }

  /** Forgets every key: the next element starts. */
  clear(): void {
    this.count = 0
    if (++this.epoch === 0xffffffff) {
      this.stamp.fill(0)
      this.epoch = 1
    }
  }

  /** Adds the key b[s, s+len); false when it is already there (or the probe ran long), or the set is full. */
  add(b: Buffer, s: number, len: number): boolean {
    const k = this.count
    if (k >= this.at.length) return false
    if (k < LINEAR) {
      for (let j = 0; j < k; j++) if (this.len[j] === len && sameRange(b, this.at[j]!, s, len)) return false
    } else if (k === LINEAR) {
      // The table takes over: the keys so far go in first (all different, so they only need a slot).
      for (let j = 0; j < k; j++) this.place(j, this.find(b, this.at[j]!, this.len[j]!))
    }
    if (k >= LINEAR) {
      const i = this.find(b, s, len)
      if (i < 0) return false
      this.place(k, i)
    }
    this.at[k] = s
    this.len[k] = len
    this.count = k + 1
    return true
  }

  /** The free slot for key b[s, s+len), or −1 when it is in the table already (or the probe ran long). */
  private find(b: Buffer, s: number, len: number): number {
    let h = SEED ^ len
    for (let i = 0; i < len; i++) h = Math.imul(h ^ b[s + i]!, 0x01000193)
    // Murmur3's finaliser, so every bit of the key reaches the slot bits.
    h ^= h >>> 16
    h = Math.imul(h, 0x85ebca6b)
    h ^= h >>> 13
    let i = h & MASK
    for (let probes = 0; this.stamp[i] === this.epoch; probes++, i = (i + 1) & MASK) {
      const k = this.slot[i]!
      if (probes >= MAX_PROBES || (this.len[k] === len && sameRange(b, this.at[k]!, s, len))) return -1
    }
    return i
  }

  private place(k: number, i: number): void {
    this.slot[i] = k
    this.stamp[i] = this.epoch
  }
}
