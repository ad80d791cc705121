/**
 * Kafka's murmur2 (org.apache.kafka.common.utils.Utils#murmur2), bit for bit, so that a user lands on
 * the same partition number in the embedded log and in a Kafka topic written by any Kafka client.
 */
export function murmur2(data: Uint8Array): number {
  return murmur2Range(data, 0, data.length)
}

/** murmur2 of data[start, end): callers hashing a key inside a larger buffer make no view of it. */
export function murmur2Range(data: Uint8Array, start: number, end: number): number {
  const length = end - start
  const m = 0x5bd1e995
  let h = (0x9747b28c ^ length) | 0
  const length4 = length >>> 2
  for (let i = 0; i < length4; i++) {
    const i4 = start + i * 4
    let k = (data[i4]! & 0xff) | ((data[i4 + 1]! & 0xff) << 8) | ((data[i4 + 2]! & 0xff) << 16) | ((data[i4 + 3]! & 0xff) << 24)
    k = Math.imul(k, m)
    k ^= k >>> 24
    k = Math.imul(k, m)
    h = Math.imul(h, m)
    h ^= k
  }
  const tail = start + (length & ~3)
  // Java's switch falls through from case 3 to case 1.
  const rest = length % 4
  if (rest === 3) h ^= (data[tail + 2]! & 0xff) << 16
  if (rest >= 2) h ^= (data[tail + 1]! & 0xff) << 8
  if (rest >= 1) {
    h ^= data[tail]! & 0xff
    h = Math.imul(h, m)
  }
  h ^= h >>> 13
  h = Math.imul(h, m)
  h ^= h >>> 15
  return h | 0
}

/** Kafka's Utils#toPositive: masks the sign bit (not Math.abs, which differs for MIN_VALUE). */
export function toPositive(n: number): number {
  return n & 0x7fffffff
}
