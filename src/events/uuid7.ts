import { randomFillSync } from 'node:crypto'

// Random bytes are drawn in blocks: one syscall per 4096 ids instead of one per id.
const POOL_IDS = 4096
const pool = Buffer.alloc(POOL_IDS * 16)
let poolIndex = POOL_IDS

/** RFC 9562 UUIDv7: time-ordered, so server-assigned event ids sort by receive time. */
export function uuid7(now: number = Date.now()): string {
  if (poolIndex === POOL_IDS) {
    randomFillSync(pool)
    poolIndex = 0
  }
  const r = poolIndex++ * 16
  pool.writeUIntBE(now, r, 6)
  pool[r + 6] = 0x70 | (pool[r + 6]! & 0x0f)
  pool[r + 8] = 0x80 | (pool[r + 8]! & 0x3f)
  const h = pool.toString('hex', r, r + 16)
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
}
