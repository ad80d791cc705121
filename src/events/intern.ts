/**
 * A direct-mapped cache of short strings read from buffers. Event names, tenants, property keys and
 * common values repeat on almost every event: returning the same string object skips an allocation
 * and lets later Map lookups reuse the string's cached hash. A collision just replaces the slot.
 */
const SLOTS = 8192
const MAX_LENGTH = 32
const cache = new Array<string | undefined>(SLOTS)

/** Node's Buffer has latin1Slice at run time; its type declarations leave it out. */
type Latin1 = Buffer & { latin1Slice(start: number, end: number): string }

export function readShortString(b: Buffer, start: number, end: number): string {
  const n = end - start
  if (n > MAX_LENGTH) return b.toString('utf8', start, end)
  let h = 0x811c9dc5 ^ n
  for (let i = start; i < end; i++) {
    const c = b[i]!
    if (c > 0x7f) return b.toString('utf8', start, end)
    h = Math.imul(h ^ c, 0x01000193)
  }
  const slot = (h >>> 0) & (SLOTS - 1)
  const hit = cache[slot]
  if (hit !== undefined && spells(b, start, end, hit)) return hit
  const s = (b as Latin1).latin1Slice(start, end)
  cache[slot] = s
  return s
}

/**
 * `last` when b[start, end) holds exactly its characters, else readShortString's answer. For fields
 * that repeat from one event to the next (the tenant, the event name): one comparison instead of a
 * hash and a comparison.
 */
export function readRepeated(b: Buffer, start: number, end: number, last: string): string {
  return spells(b, start, end, last) ? last : readShortString(b, start, end)
}

/** Whether b[start, end) is `s`, byte for character, every byte ASCII (so the bytes read as UTF-8 are `s`). */
function spells(b: Buffer, start: number, end: number, s: string): boolean {
  const n = end - start
  if (n !== s.length) return false
  for (let i = 0; i < n; i++) {
    const c = b[start + i]!
    if (c > 0x7f || c !== s.charCodeAt(i)) return false
  }
  return true
}
