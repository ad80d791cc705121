import { murmur2, toPositive } from './murmur2.ts'

const encoder = new TextEncoder()
// Reused for ASCII keys, which are nearly all of them: no allocation per key.
let scratch = new Uint8Array(256)

/** The partition key of a user: tenants never share a key space. */
export function partitionKey(tenant: string, userId: string): string {
  return `${tenant}:${userId}`
}

/** Kafka's default partitioner for a keyed record: toPositive(murmur2(utf8(key))) % partitions. */
export function partitionFor(key: string, partitions: number): number {
  return toPositive(murmur2(utf8(key))) % partitions
}

export function partitionOfUser(tenant: string, userId: string, partitions: number): number {
  return partitionFor(partitionKey(tenant, userId), partitions)
}

function utf8(key: string): Uint8Array {
  const n = key.length
  if (n > scratch.length) scratch = new Uint8Array(n * 2)
  for (let i = 0; i < n; i++) {
    const c = key.charCodeAt(i)
    if (c > 0x7f) return encoder.encode(key)
    scratch[i] = c
  }
  return scratch.subarray(0, n)
}
