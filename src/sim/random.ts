/**
 * xoshiro128** seeded through splitmix32: fast, 32-bit only (no BigInt), and good enough statistically
 * for workloads. Generators must never touch Math.random, or the same seed would not give the same file.
 */
export class Rng {
  private a: number
  private b: number
  private c: number
  private d: number

  /** `stream` gives independent sequences from one seed, so one attribute can change without shifting the others. */
  constructor(seed: number, stream = 0) {
    let x = (seed ^ Math.imul(stream + 1, 0x632be5ab)) >>> 0
    const next = (): number => {
      x = (x + 0x9e3779b9) >>> 0
      let z = x
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b)
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35)
      return (z ^ (z >>> 16)) >>> 0
    }
    this.a = next()
    this.b = next()
    this.c = next()
    this.d = next()
    // An all-zero state would only ever return zeros.
    if ((this.a | this.b | this.c | this.d) === 0) this.a = 1
  }

  /** Uniform unsigned 32-bit integer. */
  u32(): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0
    const t = this.b << 9
    this.c ^= this.a
    this.d ^= this.b
    this.b ^= this.c
    this.a ^= this.d
    this.c ^= t
    this.d = rotl(this.d, 11)
    return result
  }

  /** Uniform in [0, 1), 32 bits of resolution. */
  float(): number {
    return this.u32() / 4294967296
  }

  /** Uniform integer in [0, n) for 0 < n <= 2^32. */
  below(n: number): number {
    return Math.floor(this.float() * n)
  }

  /** Uniform integer in [lo, hi], both inclusive. */
  int(lo: number, hi: number): number {
    return lo + this.below(hi - lo + 1)
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.float() < p
  }

  /** One element, uniformly. */
  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)]!
  }

  /** One element, chosen with probability proportional to its weight. */
  weighted<T>(items: readonly T[], weights: readonly number[]): T {
    return weightedAt(items, weights, this.float())
  }
}

/**
 * A 32-bit hash of integers: attributes that belong to an entity (a user's country, a player's
 * provider) are derived from its id this way, so they stay the same wherever the entity shows up.
 */
export function hash32(...parts: number[]): number {
  let h = 0x811c9dc5
  for (const p of parts) h = fmix32(Math.imul(h ^ (p >>> 0), 0x01000193))
  return h >>> 0
}

/** MurmurHash3's finaliser: every input bit affects every output bit. */
function fmix32(h: number): number {
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  return h ^ (h >>> 16)
}

/** `weighted` for a fixed fraction u in [0, 1): the choice a hash makes for an entity. */
export function weightedAt<T>(items: readonly T[], weights: readonly number[], u: number): T {
  let total = 0
  for (const w of weights) total += w
  let r = u * total
  for (let i = 0; i < items.length; i++) {
    r -= weights[i]!
    if (r < 0) return items[i]!
  }
  return items[items.length - 1]!
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k))
}
