import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { EmbeddedEventLog } from '../../src/log/embedded/event-log.ts'

interface Ack {
  id: number
  partition: number
  baseOffset: number
  count: number
}

const child = join(import.meta.dirname, 'crash-child.ts')

/** Runs the appender until it has acknowledged `acks` batches, then SIGKILLs it. */
function runAndKill(dir: string, firstBatch: number, acks: number): Promise<Ack[]> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', child, dir, String(firstBatch)], { stdio: ['ignore', 'pipe', 'inherit'] })
    const seen: Ack[] = []
    let buffer = ''
    proc.stdout.on('data', (chunk: Buffer) => {
      buffer += chunk.toString()
      const lines = buffer.split('\n')
      buffer = lines.pop()!
      for (const line of lines) {
        const [, id, partition, baseOffset, count] = line.split(' ').map(Number)
        seen.push({ id: id!, partition: partition!, baseOffset: baseOffset!, count: count! })
        if (seen.length === acks) proc.kill('SIGKILL')
      }
    })
    proc.on('exit', (_code, signal) => (signal === 'SIGKILL' ? resolve(seen) : reject(new Error(`appender exited without being killed (${signal})`))))
  })
}

describe('embedded log crash safety', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tagstream-crash-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('keeps every acknowledged batch, whole and contiguous, across repeated SIGKILLs', async () => {
    const acked: Ack[] = []
    for (const [round, acks] of [
      [0, 150],
      [1, 40],
      [2, 400],
    ] as const) {
      acked.push(...(await runAndKill(dir, round * 1_000_000, acks)))
    }
    const log = await EmbeddedEventLog.open(dir, { retentionCheckMs: 0 })
    try {
      const byOffset = new Map<string, Ack>()
      for (const a of acked) byOffset.set(`${a.partition}/${a.baseOffset}`, a)
      let total = 0
      for (let p = 0; p < 4; p++) {
        const { start, end } = await log.offsets('events', p)
        expect(start).toBe(0)
        const records = []
        for (let offset = 0; offset < end;) {
          const got = await log.read('events', p, offset, { maxRecords: 5_000 })
          records.push(...got)
          offset = got[got.length - 1]!.offset + 1
        }
        // Contiguous offsets: no holes, no repeats.
        expect(records.map((r) => r.offset)).toEqual(Array.from({ length: end }, (_, i) => i))
        // Every stored batch is whole (a torn batch would break the j = 0..199 run) and belongs here.
        for (let i = 0; i < records.length; i += 200) {
          const id = Number(Buffer.from(records[i]!.value).toString().split(':')[0])
          expect(id % 4).toBe(p)
          for (let j = 0; j < 200; j++) {
            const r = records[i + j]!
            expect(Buffer.from(r.value).toString()).toBe(`${id}:${j}:${'x'.repeat(100)}`)
            expect(r.key).toBe(`k${id}`)
          }
          const ack = byOffset.get(`${p}/${i}`)
          if (ack) expect(ack.id).toBe(id)
        }
        total += end
      }
      // Every acknowledged batch is there, at the offset it was acknowledged with.
      for (const a of acked) {
        const first = await log.read('events', a.partition, a.baseOffset, { maxRecords: 1 })
        expect(Buffer.from(first[0]!.value).toString().startsWith(`${a.id}:0:`)).toBe(true)
      }
      expect(total).toBeGreaterThanOrEqual(acked.length * 200)
      // And the log carries on where it stopped.
      const next = await log.append('events', 0, [{ key: null, value: Buffer.from('after') }])
      expect(next.baseOffset).toBe((await log.offsets('events', 0)).end - 1)
    } finally {
      await log.close()
    }
  })
})
