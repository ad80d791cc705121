import { describe, expect, it } from 'vitest'
import { Deduper } from '../../src/ingest/dedupe.ts'

const key = Deduper.key

describe('Deduper', () => {
  it('takes an id once; the same id is a duplicate while pending and after commit', () => {
    const d = new Deduper({ horizonMs: 1000, maxEntries: 100 })
    expect(d.claim(key('t', 'a'), 0)).toBe(true)
    expect(d.claim(key('t', 'a'), 0)).toBe(false)
    d.commit([key('t', 'a')], 10)
    expect(d.pendingCount).toBe(0)
    expect(d.claim(key('t', 'a'), 500)).toBe(false)
  })

  it('forgets an id once the horizon has passed since it was marked', () => {
    const d = new Deduper({ horizonMs: 1000, maxEntries: 100 })
    d.claim(key('t', 'a'), 0)
    d.commit([key('t', 'a')], 100)
    expect(d.claim(key('t', 'a'), 1099)).toBe(false)
    expect(d.claim(key('t', 'a'), 1100)).toBe(true)
    d.commit([key('t', 'a')], 1100)
    expect(d.claim(key('t', 'a'), 2000)).toBe(false)
    expect(d.size).toBe(1)
  })

  it('releases ids of a failed append, so a retry is accepted', () => {
    const d = new Deduper({ horizonMs: 1000, maxEntries: 100 })
    expect(d.claim(key('t', 'a'), 0)).toBe(true)
    d.release([key('t', 'a')])
    expect([d.size, d.pendingCount]).toEqual([0, 0])
    expect(d.claim(key('t', 'a'), 1)).toBe(true)
    expect([d.size, d.pendingCount]).toEqual([1, 1])
  })

  it('never evicts a pending id, even over maxEntries; it stays a duplicate until released or committed', () => {
    const d = new Deduper({ horizonMs: 10, maxEntries: 2 })
    expect(d.claim(key('t', 'p'), 0)).toBe(true)
    for (const [i, id] of ['a', 'b', 'c'].entries()) {
      d.claim(key('t', id), i)
      d.commit([key('t', id)], i)
    }
    // 'a' and 'b' made way; the pending 'p' did not, and is still a duplicate long after.
    expect(d.claim(key('t', 'p'), 1000)).toBe(false)
    expect(d.claim(key('t', 'a'), 3)).toBe(true)
    d.release([key('t', 'a')])
    d.commit([key('t', 'p')], 1000)
    expect(d.claim(key('t', 'p'), 1005)).toBe(false)
    expect(d.claim(key('t', 'p'), 1010)).toBe(true)
  })

  it('scopes ids by tenant, and no tenant name can collide with another pair', () => {
    const d = new Deduper({ horizonMs: 1000, maxEntries: 100 })
    expect(d.claim(key('acme', 'a'), 0)).toBe(true)
    expect(d.claim(key('default', 'a'), 0)).toBe(true)
    expect(key('a:b', 'c')).not.toBe(key('a', 'b:c'))
    expect(Deduper.prefix('acme') + 'x').toBe(key('acme', 'x'))
  })

  it('keeps at most maxEntries ids, forgetting the oldest first', () => {
    const d = new Deduper({ horizonMs: 1_000_000, maxEntries: 3 })
    for (const [i, id] of ['a', 'b', 'c', 'd', 'e'].entries()) {
      d.claim(key('t', id), i)
      d.commit([key('t', id)], i)
    }
    expect(d.size).toBe(3)
    expect(d.claim(key('t', 'a'), 10)).toBe(true)
    expect(d.claim(key('t', 'b'), 10)).toBe(true)
    expect(d.claim(key('t', 'c'), 10)).toBe(false)
    expect(d.claim(key('t', 'e'), 10)).toBe(false)
  })

  it('drops expired ids when new ones are committed, keeping memory proportional to the horizon', () => {
    const d = new Deduper({ horizonMs: 100, maxEntries: 1_000_000 })
    for (let t = 0; t < 1000; t++) {
      const k = key('t', String(t))
      d.claim(k, t)
      d.commit([k], t)
    }
    expect(d.size).toBe(100)
  })

  it('a re-marked expired id moves to the end: it outlives ids marked before it', () => {
    const d = new Deduper({ horizonMs: 100, maxEntries: 100 })
    d.claim(key('t', 'a'), 0)
    d.commit([key('t', 'a')], 0)
    d.claim(key('t', 'b'), 50)
    d.commit([key('t', 'b')], 50)
    expect(d.claim(key('t', 'a'), 120)).toBe(true)
    d.commit([key('t', 'a')], 120)
    expect(d.claim(key('t', 'b'), 160)).toBe(true)
    expect(d.claim(key('t', 'a'), 160)).toBe(false)
  })
})
