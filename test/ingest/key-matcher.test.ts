import { describe, expect, it } from 'vitest'
import { keyMatcher } from '../../src/ingest/fast-path-bytes.ts'

/** The matcher against the obvious reference: indexOf over the names. */
function check(names: string[], keys: string[]): void {
  const match = keyMatcher(names)
  for (const key of keys) {
    // The key inside a larger buffer, as a body holds it.
    const b = Buffer.from(`{"${key}":1}`)
    expect(match(b, 2, 2 + Buffer.byteLength(key)), key).toBe(names.indexOf(key) + 1)
  }
}

describe('keyMatcher (envelope fields of the fast paths)', () => {
  it('names exactly the listed keys, including names that share a length and end bytes', () => {
    // "acb" shares its length, first and last bytes with "axb": one table slot, compared in full.
    const names = ['event', 'user_id', 'ts', 'axb', 'acb', 'sent_at', 'tenant', 'x']
    const keys = [...names, 'evenT', 'user_ie', 'tz', 'ayb', 'ab', 'a', '', 'event_', 'sent_a', 'tenants', 'x'.repeat(300), 'ü', 'tt']
    check(names, keys)
  })

  it('matches generated keys as the reference does (many names sharing table slots)', () => {
    const letters = 'abcdefghij'
    const names = Array.from({ length: 300 }, (_, i) => letters[i % 10]! + String(i) + letters[(i * 7) % 10]!)
    const keys = [...names, ...names.map((n) => n.slice(0, -1) + 'z'), ...names.map((n) => 'q' + n.slice(1))]
    check(names, keys)
  })
})
