import { describe, expect, it } from 'vitest'
import { RequestIds } from '../../src/ingest/ids.ts'

const UUID7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/
const at = Date.UTC(2026, 10, 1, 10, 0, 0, 123)

describe('RequestIds', () => {
  it('makes UUIDv7s carrying the receive time', () => {
    const id = new RequestIds(at).next()
    expect(id).toMatch(UUID7)
    expect(parseInt(id.slice(0, 8) + id.slice(9, 13), 16)).toBe(at)
  })

  it('makes strictly increasing ids within a request', () => {
    const ids = new RequestIds(at)
    let last = ids.next()
    for (let i = 0; i < 20_000; i++) {
      const id = ids.next()
      expect(id > last).toBe(true)
      last = id
    }
  })

  it('never repeats an id, across requests in the same millisecond either', () => {
    const seen = new Set<string>()
    for (let r = 0; r < 200; r++) {
      const ids = new RequestIds(at)
      for (let i = 0; i < 500; i++) seen.add(ids.next())
    }
    expect(seen.size).toBe(100_000)
  })

  it('draws new random bits instead of wrapping the counter', () => {
    const ids = new RequestIds(at)
    ;(ids as unknown as { counter: number }).counter = 0xffffff
    const a = ids.next()
    const b = ids.next()
    expect(a).toMatch(UUID7)
    expect(b).toMatch(UUID7)
    expect(a.slice(-12)).not.toBe(b.slice(-12))
  })
})
