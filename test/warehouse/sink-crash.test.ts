import { spawn } from 'node:child_process'
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, dirname, join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { openEventLog } from '../../src/log/open-log.ts'
import { runSinkOnce } from '../../src/warehouse/sink/index.ts'
import { parsePartFileName } from '../../src/warehouse/layout.ts'
import { inventory } from '../../src/warehouse/query/views.ts'
import { appendAll, fingerprint, query, workload } from './sink-helpers.ts'

const child = join(import.meta.dirname, 'sink-crash-child.ts')

/** Runs the child; with `kill`, SIGKILLs it `ms` after its `flushes`-th announced flush (a moment inside the next one). */
function run(logDir: string, root: string, kill?: { flushes: number; ms: number }, live = false): Promise<'done' | 'killed'> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', child, logDir, root, '211', live ? 'live' : ''], { stdio: ['ignore', 'pipe', 'inherit'] })
    let flushes = 0
    let armed = false
    proc.stdout.on('data', (chunk: Buffer) => {
      flushes += chunk.toString().split('flushed\n').length - 1
      if (kill && !armed && flushes >= kill.flushes) {
        armed = true
        setTimeout(() => proc.kill('SIGKILL'), kill.ms)
      }
    })
    proc.on('exit', (code, signal) => (signal === 'SIGKILL' ? resolve('killed') : code === 0 ? resolve('done') : reject(new Error(`sink exited with ${code}`))))
  })
}

describe('warehouse sink exactly-once across SIGKILL', () => {
  const base = mkdtempSync(join(tmpdir(), 'tagstream-sink-crash-'))
  afterAll(() => rmSync(base, { recursive: true, force: true }))

  // Five kills and restarts of a child process: slow on a loaded 2-core machine, hence its own timeout.
  for (const [label, live] of [
    ['flushing', false],
    ['flushing and merging live: compaction under load', true],
  ] as const) {
    it(`ends with the same rows as an uninterrupted run: no loss, no duplicate (${label})`, { timeout: 240_000 }, async () => {
      const tmp = join(base, live ? 'live' : 'flush')
      mkdirSync(tmp)
      const logDir = join(tmp, 'log')
      const { log, partitions } = await openEventLog(logDir, { partitions: 4 })
      await appendAll(log, workload(12_000, 21), partitions, 1_000)
      const calm = await runSinkOnce(log, join(tmp, 'calm'), { flushRows: 500 })
      expect(calm.rowsWritten).toBe(12_000)
      await log.close()

      // The crashy run has its own log copy, so its consumer group starts from nothing.
      const crashyLog = join(tmp, 'log-crashy')
      cpSync(join(tmp, 'log'), crashyLog, { recursive: true })
      const { log: again } = await openEventLog(crashyLog)
      for (let p = 0; p < partitions; p++) await again.commit('warehouse', 'events', p, 0)
      await again.close()
      const root = join(tmp, 'crashy')
      let kills = 0
      for (const kill of [
        { flushes: 2, ms: 7 },
        { flushes: 3, ms: 0 },
        { flushes: 1, ms: 25 },
        { flushes: 4, ms: 3 },
        { flushes: 1, ms: 12 },
      ]) {
        if ((await run(crashyLog, root, kill, live)) === 'killed') kills++
      }
      expect(await run(crashyLog, root, undefined, live)).toBe('done')
      expect(kills).toBeGreaterThanOrEqual(2)

      const a = await fingerprint(join(tmp, 'calm'))
      const b = await fingerprint(root)
      expect(a).toEqual({ rows: 12_000, checksum: a.checksum, duplicates: 0 })
      expect(b).toEqual(a)
      // Flattened columns too, for every row.
      const cols = (r: string) => query(r, (from) => `SELECT count(*) AS n, sum(hash(event_id, amount, item, meta_store, meta_price, meta_promo, bet, win, first)::HUGEINT)::VARCHAR AS h FROM ${from}`)
      expect(await cols(root)).toEqual(await cols(join(tmp, 'calm')))
      // The merging run really merged: every (day, event, partition) holds no more live files than the
      // child's policy allows after a pass (6 in the current hour, 2 from earlier hours); its flushes
      // alone leave 12-13 in each. (A total below the calm run's, asserted before, is not the
      // policy's promise: files of distinct size tiers stay apart, and where the kills fell decided
      // whether the total came under the calm run's 88: once it was 90.)
      if (live) {
        const perGroup = new Map<string, number>()
        for (const f of Object.values((await inventory(root)).events).flat()) {
          const key = `${dirname(f)} ${parsePartFileName(basename(f))?.partition}`
          perGroup.set(key, (perGroup.get(key) ?? 0) + 1)
        }
        expect(perGroup.size).toBeGreaterThan(0)
        expect(Math.max(...perGroup.values())).toBeLessThanOrEqual(6 + 2)
      }
    })
  }
})
