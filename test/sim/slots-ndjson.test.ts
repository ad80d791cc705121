import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import { afterAll, describe, expect, it } from 'vitest'
import { planSlots, slotsEventAt, slotsNdjsonChunks, writeSlotsNdjson } from '../../src/sim/index.ts'
import { tempDir } from '../support/ndjson.ts'

const tmp = tempDir()
afterAll(() => tmp.remove())
const OPTIONS = { users: 300, spins: 40_000, seed: 5 }

describe('slots NDJSON', () => {
  it.each(['time', 'random'] as const)('writes each event exactly as JSON.stringify would (%s order)', (order) => {
    const plan = planSlots({ ...OPTIONS, order })
    const text = Buffer.concat([...slotsNdjsonChunks(plan)]).toString('utf8')
    const lines = text.split('\n')
    expect(lines.pop()).toBe('')
    expect(lines).toHaveLength(plan.count)
    lines.forEach((line, i) => {
      if (line !== JSON.stringify(slotsEventAt(plan, i))) expect(line).toBe(JSON.stringify(slotsEventAt(plan, i)))
    })
  })

  it('splits into whole lines and reports progress up to the total', () => {
    const plan = planSlots({ users: 2000, spins: 100_000 })
    const seen: number[] = []
    const chunks = [...slotsNdjsonChunks(plan, (done) => seen.push(done))]
    expect(chunks.length).toBeGreaterThan(1)
    expect(chunks.every((c) => c.at(-1) === 0x0a)).toBe(true)
    expect(seen.at(-1)).toBe(plan.count)
    expect(seen.every((d, i) => i === 0 || seen[i - 1]! <= d)).toBe(true)
  })

  it('writes byte-identical files for the same seed, different ones for another seed', async () => {
    const [a, b, c] = ['a.ndjson', 'b.ndjson', 'c.ndjson'].map((f) => join(tmp.dir, f)) as [string, string, string]
    const ra = await writeSlotsNdjson(a, OPTIONS)
    await writeSlotsNdjson(b, OPTIONS)
    await writeSlotsNdjson(c, { ...OPTIONS, seed: 6 })
    expect(readFileSync(a).equals(readFileSync(b))).toBe(true)
    expect(readFileSync(a).equals(readFileSync(c))).toBe(false)
    expect(ra.bytes).toBe(readFileSync(a).length)
    expect(ra.events).toBe(readFileSync(a, 'utf8').split('\n').length - 1)
    expect(ra.end).toBe(Date.UTC(2026, 10, 1, 12))
  })

  it('gzips when the path ends in .gz, reporting compressed bytes', async () => {
    const plain = join(tmp.dir, 'p.ndjson')
    const gz = join(tmp.dir, 'p.ndjson.gz')
    await writeSlotsNdjson(plain, OPTIONS)
    const r = await writeSlotsNdjson(gz, OPTIONS)
    expect(gunzipSync(readFileSync(gz)).equals(readFileSync(plain))).toBe(true)
    expect(r.bytes).toBe(readFileSync(gz).length)
    expect(r.bytes).toBeLessThan(readFileSync(plain).length / 4)
  })
})
