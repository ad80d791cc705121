import { murmur2, toPositive } from './murmur2.ts'

const encoder = new TextEncoder()

/** The partition key of a user: tenants never share a key space. */
export function partitionKey(tenant: string, userId: string): string {
  return `${tenant}:${userId}`
}

/** Kafka's default partitioner for a keyed record: toPositive(murmur2(utf8(key))) % partitions. */
export function partitionFor(key: string, partitions: number): number {
  return toPositive(murmur2(encoder.encode(key))) % partitions
}

export function partitionOfUser(tenant: string, userId: string, partitions: number): number {
  return partitionFor(partitionKey(tenant, userId), partitions)
}
