/**
 * Windows' slot arrays (src/engine/metrics/windows/slots.ts): cut from shared chunks, zeroed, never
 * overlapping; a reservation puts the next windows' slots in one allocation made at once (a
 * backfill's million windows: docs/tenancy.md), and slotsTakenBy says what one window takes.
 */
import { describe, expect, it } from 'vitest'
import { countSlots, doubleSlots, reserveSlots, slotsTakenBy } from '../../../src/engine/metrics/windows/slots.ts'
import { WindowedMetric } from '../../../src/engine/metrics/windowed.ts'

describe('window slots', () => {
  it('hands out zeroed slots that never overlap, from shared chunks', () => {
    const a = doubleSlots(120)
    const b = doubleSlots(120)
    a.fill(1)
    expect([...b].every((x) => x === 0)).toBe(true)
    expect(a.buffer).toBe(b.buffer)
    const c = countSlots(7)
    expect(c.length).toBe(7)
    expect([...c]).toEqual([0, 0, 0, 0, 0, 0, 0])
  })

  it('measures what a window takes, and reserves room for many in one allocation', () => {
    const shape = { bucketMs: 60_000, buckets: 120 }
    expect(slotsTakenBy(() => WindowedMetric.empty('sum', shape, 0))).toEqual({ doubles: 120, counts: 0 })
    expect(slotsTakenBy(() => WindowedMetric.empty('avg', shape, 0))).toEqual({ doubles: 120, counts: 120 })
    expect(slotsTakenBy(() => WindowedMetric.empty('count', shape, 0))).toEqual({ doubles: 0, counts: 120 })
    // 20,000 windows of 120 doubles (19 MB) from one buffer: without the reservation, 1 MiB chunks.
    reserveSlots({ doubles: 20_000 * 120, counts: 0 })
    const buffers = new Set<ArrayBufferLike>()
    for (let i = 0; i < 20_000; i++) buffers.add(doubleSlots(120).buffer)
    expect(buffers.size).toBe(1)
    const unreserved = new Set<ArrayBufferLike>()
    for (let i = 0; i < 20_000; i++) unreserved.add(doubleSlots(120).buffer)
    expect(unreserved.size).toBeGreaterThan(10)
  })
})
