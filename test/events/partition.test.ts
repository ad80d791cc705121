import { describe, expect, it } from 'vitest'
import { murmur2, toPositive } from '../../src/events/murmur2.ts'
import { partitionFor, partitionOfUser } from '../../src/events/partition.ts'

const bytes = (s: string) => new TextEncoder().encode(s)

describe('murmur2', () => {
  // Vectors from Kafka's own UtilsTest#testMurmur2.
  it.each([
    ['21', -973932308],
    ['foobar', -790332482],
    ['a-little-bit-long-string', -985981536],
    ['a-little-bit-longer-string', -1486304829],
    ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
    ['abc', 479470107],
  ])('hashes %s like Kafka', (input, expected) => {
    expect(murmur2(bytes(input))).toBe(expected)
  })

  // Vectors other Kafka-compatible clients check against the Java implementation.
  it.each([
    ['1', -1993445489],
    ['12', 126087238],
    ['123', -267702483],
    ['1234', -1614185708],
    ['12345', -1188365604],
  ])('hashes %s like the Java client', (input, expected) => {
    expect(murmur2(bytes(input))).toBe(expected)
  })

  it('hashes the empty key', () => {
    expect(murmur2(new Uint8Array(0))).toBe(275646681)
  })

  it('toPositive masks the sign bit like Kafka, not Math.abs', () => {
    expect(toPositive(-2147483648)).toBe(0)
    expect(toPositive(-1)).toBe(2147483647)
    expect(toPositive(5)).toBe(5)
  })
})

describe('partitionFor', () => {
  it('is Kafka default partitioning of the utf-8 key', () => {
    expect(partitionFor('foobar', 8)).toBe(toPositive(-790332482) % 8)
    expect(partitionFor('21', 5)).toBe(toPositive(-973932308) % 5)
  })

  it('keys users by tenant', () => {
    expect(partitionOfUser('default', '17', 8)).toBe(partitionFor('default:17', 8))
  })

  it('spreads users evenly', () => {
    const counts = new Array<number>(8).fill(0)
    for (let i = 0; i < 80_000; i++) counts[partitionOfUser('default', String(i), 8)]!++
    for (const c of counts) expect(Math.abs(c - 10_000)).toBeLessThan(600)
  })
})
