import { describe, expect, it } from 'vitest'
import { KeySet } from '../../src/ingest/key-set.ts'
import { rng } from './fast-path-bodies.ts'

// The byte-level readers' repeated-key check against a reference (a Set of the keys as strings), on
// generated elements of 1 to 256 keys: short and long, same-length families that differ in one
// byte, and repeats at every position, past the first few keys compared one by one too.

describe('KeySet', () => {
  it('answers as a Set of the keys would, element after element', () => {
    const r = rng(21)
    const set = new KeySet(256)
    let repeats = 0
    let late = 0
    for (let e = 0; e < 3000; e++) {
      set.clear()
      const n = 1 + Math.floor(r() * (r() < 0.2 ? 256 : 20))
      const family = r() < 0.5
      const names: string[] = []
      for (let i = 0; i < n; i++) {
        const again = names.length > 0 && r() < 0.05
        names.push(again ? names[Math.floor(r() * names.length)]! : family ? `key-${String(Math.floor(r() * 1e6)).padStart(7, '0')}` : 'x'.repeat(1 + Math.floor(r() * 40)) + String(i))
      }
      const body = Buffer.from(names.join(''))
      const seen = new Set<string>()
      let at = 0
      for (let i = 0; i < names.length; i++) {
        const len = Buffer.byteLength(names[i]!)
        const expected = !seen.has(names[i]!)
        expect(set.add(body, at, len), `element ${e}, key ${i} (${names[i]})`).toBe(expected)
        if (!expected) {
          repeats++
          if (i > 8) late++
          break
        }
        seen.add(names[i]!)
        at += len
      }
    }
    // Both sides of the check were met, past the keys compared one by one too.
    expect(repeats).toBeGreaterThan(200)
    expect(late).toBeGreaterThan(50)
  })

  it('holds as many keys as it was made for, and no more', () => {
    const set = new KeySet(256)
    const body = Buffer.from(Array.from({ length: 257 }, (_, i) => `k${String(i).padStart(3, '0')}`).join(''))
    for (let i = 0; i < 256; i++) expect(set.add(body, i * 4, 4)).toBe(true)
    expect(set.add(body, 256 * 4, 4)).toBe(false)
    set.clear()
    expect(set.add(body, 0, 4)).toBe(true)
  })
})
