import { spawn } from 'node:child_process'
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { STOPPED } from '../../src/predict/call-gate.ts'
import { predictRun } from '../../src/predict/index.ts'
import { tempRoot, writeEvents } from '../warehouse/fixtures.ts'
import { DAY, playerHistories } from './histories.ts'

const END_DAY = 20_400
const AS_OF = END_DAY * DAY + 3_600_000
const child = join(import.meta.dirname, 'stop-run-child.ts')

interface Stopped {
  code: number | null
  signal: NodeJS.Signals | null
  out: string
  err: string
}

function stopAt(dataDir: string, stage: string, ms: number): Promise<Stopped> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', child, dataDir, stage, String(ms), String(AS_OF)], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    proc.stdout.on('data', (c: Buffer) => (out += c.toString()))
    proc.stderr.on('data', (c: Buffer) => (err += c.toString()))
    proc.on('error', reject)
    proc.on('exit', (code, signal) => resolve({ code, signal, out, err }))
  })
}

// A server closing stops its prediction run. Terminating the run's thread with a DuckDB query in
// flight aborted the whole process (SIGABRT, "terminate called after throwing an instance of
// 'Napi::Error'"): the demo's Ctrl-C ended by a signal, and a test process died with it.
describe('a prediction run stopped in its thread', () => {
  let data: string
  beforeAll(async () => {
    data = tempRoot()
    await writeEvents(join(data, 'warehouse'), playerHistories({ users: 1_500, days: 60, endDay: END_DAY, seed: 5 }))
  })
  afterAll(() => rmSync(data, { recursive: true, force: true }))

  // Inside the feature queries (DuckDB), and inside a model's fit (JavaScript no signal reaches).
  for (const [stage, ms] of [
    ['features', 0],
    ['features', 150],
    ['train', 300],
  ] as const) {
    it(`ends the run as failed, stopped, and the process lives on (stopped ${ms} ms into ${stage})`, { timeout: 120_000 }, async () => {
      const r = await stopAt(data, stage, ms)
      expect({ code: r.code, signal: r.signal }, r.err.slice(-2000)).toEqual({ code: 0, signal: null })
      const got = JSON.parse(r.out) as { stopMs: number; status: string; error: string }
      expect(got).toMatchObject({ status: 'failed', error: STOPPED })
      // Inside a fit too, the stop does not wait for the fit (seconds): the grace, then the gate.
      expect(got.stopMs).toBeLessThan(10_000)
      // The lock is free again: the next run starts (and here finishes).
      expect((await predictRun({ dataDir: data, kind: 'train', asOfMs: AS_OF, options: { seed: 1, maxTrainRows: 2_000 } })).status).toBe('succeeded')
    })
  }
})
