import { describe, expect, it } from 'vitest'
import { hashPassword, parseHash, SCRYPT_PARAMS, verifyPassword } from '../../src/game/password.ts'

describe('password hashing (scrypt)', () => {
  it('stores scrypt$N$r$p$salt$hash in base64 and verifies the right password only', async () => {
    const stored = await hashPassword('blahdh')
    expect(stored).toMatch(/^scrypt\$16384\$8\$1\$[A-Za-z0-9+/]{22}==\$[A-Za-z0-9+/]{43}=$/)
    expect(stored).not.toContain('blahdh')
    expect(await verifyPassword('blahdh', stored)).toBe(true)
    expect(await verifyPassword('blahdH', stored)).toBe(false)
    expect(await verifyPassword('', stored)).toBe(false)
  })

  it('salts every hash: one password hashes differently twice', async () => {
    const [a, b] = await Promise.all([hashPassword('same'), hashPassword('same')])
    expect(a).not.toBe(b)
    expect(parseHash(a)!.salt.length).toBe(16)
    expect(await verifyPassword('same', b)).toBe(true)
  })

  it('keeps the parameters in the hash, so hashes made with other parameters still verify', async () => {
    const stored = await hashPassword('pw-1234', { N: 1024, r: 4, p: 2 })
    expect(stored.startsWith('scrypt$1024$4$2$')).toBe(true)
    expect(await verifyPassword('pw-1234', stored)).toBe(true)
    expect(SCRYPT_PARAMS).toEqual({ N: 16384, r: 8, p: 1 })
  })

  it('treats NFC and NFD spellings of one password as the same', async () => {
    const stored = await hashPassword('caf\u00e9')
    expect(await verifyPassword('cafe\u0301', stored)).toBe(true)
  })

  it('refuses tampered and malformed stored values instead of throwing', async () => {
    const stored = await hashPassword('secret')
    const parts = stored.split('$')
    const flipped = Buffer.from(parts[5]!, 'base64')
    flipped[0] = flipped[0]! ^ 1
    expect(await verifyPassword('secret', [...parts.slice(0, 5), flipped.toString('base64')].join('$'))).toBe(false)
    for (const bad of [
      '',
      'secret',
      'bcrypt$1$2$3$4$5',
      'scrypt$1000$8$1$c2FsdHNhbHQ=$' + 'A'.repeat(43) + '=',
      'scrypt$2097152$8$1$c2FsdHNhbHQ=$' + 'A'.repeat(43) + '=',
      'scrypt$16384$8$1$$',
      `${parts.slice(0, 5).join('$')}`,
    ]) {
      expect(parseHash(bad)).toBeNull()
      expect(await verifyPassword('secret', bad)).toBe(false)
    }
  })
})
