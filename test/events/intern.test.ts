import { describe, expect, it } from 'vitest'
import { readRepeated, readShortString } from '../../src/events/intern.ts'

/*
 * The decoder's string reads: readRepeated hands back the previous string when the bytes spell it,
 * and otherwise exactly what reading the bytes as UTF-8 gives.
 */

const bytes = (...parts: Array<string | number[]>): Buffer => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : Buffer.from(p))))

describe('readRepeated', () => {
  it('returns the previous string itself when the bytes spell it', () => {
    const last = readShortString(bytes('xxspinyy'), 2, 6)
    const b = bytes('..spin..')
    expect(readRepeated(b, 2, 6, last)).toBe(last)
    expect(readRepeated(b, 2, 6, last)).toBe('spin')
  })

  it('reads the bytes when they differ, in length or in any character', () => {
    expect(readRepeated(bytes('spins'), 0, 5, 'spin')).toBe('spins')
    expect(readRepeated(bytes('spit'), 0, 4, 'spin')).toBe('spit')
    expect(readRepeated(bytes('x'), 0, 0, 'spin')).toBe('')
    expect(readRepeated(bytes('sp'), 0, 2, '')).toBe('sp')
  })

  it('reads UTF-8 as UTF-8: a byte above 0x7f never matches a character of the previous string', () => {
    // 'é' is one UTF-16 unit (0xE9) but two UTF-8 bytes; a lone 0xE9 byte is not 'é'.
    expect(readRepeated(bytes([0xe9]), 0, 1, 'é')).toBe(Buffer.from([0xe9]).toString('utf8'))
    expect(readRepeated(bytes([0xe9]), 0, 1, 'é')).not.toBe('é')
    expect(readRepeated(bytes('café'), 0, 5, 'café')).toBe('café')
    expect(readRepeated(bytes('ünï'), 0, 5, 'xx')).toBe('ünï')
  })
})
