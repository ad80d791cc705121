import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto'

/**
 * Password hashes: scrypt (memory-hard, in node:crypto, so no new dependency) with a random
 * 16-byte salt, stored as `scrypt$N$r$p$salt$hash` (base64) so the parameters can be raised later
 * without breaking stored hashes. Hashing runs on libuv's thread pool, never on the event loop.
 */
export interface ScryptParams {
  N: number
  r: number
  p: number
}

/** ~16 MiB and a few tens of ms per hash: OWASP's scrypt minimum is N=2^17 with r=8 for new systems; raise N when the hardware allows. */
export const SCRYPT_PARAMS: ScryptParams = { N: 16_384, r: 8, p: 1 }
const SALT_BYTES = 16
const KEY_BYTES = 32
// Stored hashes are parsed before use: refuse parameters that would eat the machine's memory.
const MAX_N = 1 << 20
const MAX_R = 32
const MAX_P = 16

function derive(password: string, salt: Buffer, keyBytes: number, params: ScryptParams): Promise<Buffer> {
  // OpenSSL needs about 128·r·(N + p) bytes; leave headroom over Node's 32 MiB default.
  const options: ScryptOptions = { N: params.N, r: params.r, p: params.p, maxmem: 128 * params.r * (params.N + params.p) + (1 << 20) }
  // NFC: the same password typed on two keyboards may arrive as different code points.
  return new Promise((resolve, reject) => scrypt(password.normalize('NFC'), salt, keyBytes, options, (err, key) => (err ? reject(err) : resolve(key))))
}

export async function hashPassword(password: string, params: ScryptParams = SCRYPT_PARAMS): Promise<string> {
  const salt = randomBytes(SALT_BYTES)
  const key = await derive(password, salt, KEY_BYTES, params)
  return ['scrypt', params.N, params.r, params.p, salt.toString('base64'), key.toString('base64')].join('$')
}

/** False for a wrong password and for a stored value that is not a hash this module wrote. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parsed = parseHash(stored)
  if (parsed === null) return false
  const key = await derive(password, parsed.salt, parsed.hash.length, parsed.params)
  // Constant time: how much of the hash matched must not show in the response time.
  return timingSafeEqual(key, parsed.hash)
}

interface ParsedHash {
  params: ScryptParams
  salt: Buffer
  hash: Buffer
}

export function parseHash(stored: string): ParsedHash | null {
  const parts = stored.split('$')
  if (parts.length !== 6 || parts[0] !== 'scrypt') return null
  const [N, r, p] = [Number(parts[1]), Number(parts[2]), Number(parts[3])]
  if (!Number.isSafeInteger(N) || N < 2 || N > MAX_N || (N & (N - 1)) !== 0) return null
  if (!Number.isSafeInteger(r) || r < 1 || r > MAX_R || !Number.isSafeInteger(p) || p < 1 || p > MAX_P) return null
  const salt = Buffer.from(parts[4]!, 'base64')
  const hash = Buffer.from(parts[5]!, 'base64')
  if (salt.length < 8 || hash.length < 16 || hash.length > 64) return null
  return { params: { N, r, p }, salt, hash }
}
