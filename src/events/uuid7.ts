import { randomFillSync } from 'node:crypto'

// Random bytes are drawn in blocks: one syscall per 4096 ids instead of one per id.
const POOL_IDS = 4096
const pool = new Uint8Array(POOL_IDS * 10)
let poolIndex = POOL_IDS
const hex: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'))

/** RFC 9562 UUIDv7: time-ordered, so server-assigned event ids sort by receive time. */
export function uuid7(now: number = Date.now()): string {
  if (poolIndex === POOL_IDS) {
    randomFillSync(pool)
    poolIndex = 0
  }
  const r = poolIndex++ * 10
  const b = new Array<string>(16)
  let t = now
  for (let i = 5; i >= 0; i--) {
    b[i] = hex[t % 256]!
    t = Math.floor(t / 256)
  }
  b[6] = hex[0x70 | (pool[r]! & 0x0f)]!
  b[7] = hex[pool[r + 1]!]!
  b[8] = hex[0x80 | (pool[r + 2]! & 0x3f)]!
  for (let i = 9; i < 16; i++) b[i] = hex[pool[r + i - 6]!]!
  return `${b[0]}${b[1]}${b[2]}${b[3]}-${b[4]}${b[5]}-${b[6]}${b[7]}-${b[8]}${b[9]}-${b[10]}${b[11]}${b[12]}${b[13]}${b[14]}${b[15]}`
}
