import { describe, expect, it } from 'vitest'
import { readShortString, RepeatedString } from '../../src/events/intern.ts'

/*
 * The decoder's string reads: a cached or remembered string is handed back only when the bytes are
 * the ones it was read from, and otherwise the read gives exactly what reading the bytes as UTF-8 gives.
 */

const bytes = (...parts: Array<string | number[]>): Buffer => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : Buffer.from(p))))

describe('RepeatedString', () => {
  it('returns the previous string itself when the bytes are the same', () => {
    const r = new RepeatedString()
    const first = r.read(bytes('xxspinyy'), 2, 6)
    expect(first).toBe('spin')
    expect(r.read(bytes('..spin..'), 2, 6)).toBe(first)
  })

  it('reads the bytes when they differ, in length or in any byte', () => {
    const r = new RepeatedString()
    expect(r.read(bytes('spin'), 0, 4)).toBe('spin')
    expect(r.read(bytes('spins'), 0, 5)).toBe('spins')
    expect(r.read(bytes('spit'), 0, 4)).toBe('spit')
    expect(r.read(bytes('spin'), 0, 4)).toBe('spin')
    expect(r.read(bytes('x'), 0, 0)).toBe('')
    expect(r.read(bytes('sp'), 0, 2)).toBe('sp')
  })

  it('reads UTF-8 as UTF-8, remembered or not', () => {
    const r = new RepeatedString()
    // 'é' is one UTF-16 unit (0xE9) but two UTF-8 bytes (C3 A9); a lone 0xE9 byte is not 'é'.
    expect(r.read(bytes('é'), 0, 2)).toBe('é')
    expect(r.read(bytes([0xe9]), 0, 1)).toBe(Buffer.from([0xe9]).toString('utf8'))
    expect(r.read(bytes('café'), 0, 5)).toBe('café')
    expect(r.read(bytes('café'), 0, 5)).toBe('café')
    expect(r.read(bytes('cafè'), 0, 5)).toBe('cafè')
  })

  it('reads strings longer than it remembers every time', () => {
    const r = new RepeatedString()
    const long = 'a'.repeat(40)
    expect(r.read(bytes(long), 0, 40)).toBe(long)
    expect(r.read(bytes(`${'a'.repeat(39)}b`), 0, 40)).toBe(`${'a'.repeat(39)}b`)
    expect(r.read(bytes(long), 0, 40)).toBe(long)
  })
})

describe('readShortString', () => {
  it('gives every string back exactly when many more strings than cache slots share them', () => {
    // 20,000 ids of equal length in 8,192 slots: slots are shared, and every read must still be right.
    const ids = Array.from({ length: 20_000 }, (_, i) => `user-${String(i).padStart(6, '0')}`)
    const buf = bytes(ids.join(''))
    const n = ids[0]!.length
    for (let round = 0; round < 3; round++) {
      for (let k = 0; k < ids.length; k++) {
        const i = (k * 7_919 + round * 13) % ids.length
        expect(readShortString(buf, i * n, (i + 1) * n)).toBe(ids[i])
      }
    }
  })
})
