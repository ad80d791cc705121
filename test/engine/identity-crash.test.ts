import { execFileSync } from 'node:child_process'
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import type { TrackedEvent } from '../../src/events/index.ts'
import { readRun, runEngineChild } from './crash-run.ts'
import { expectSameOutcome, IDENTITY_RULES, identityOutcome, identityPhase } from './identity-workload.ts'

// Identity links are exactly-once under SIGKILL (issue 18, item 4): claims, grants and forwarded
// events cross partitions through the events log, and a killed engine sends some of them again.
// A run killed at several points, during the events and during the identity traffic that follows
// them, must end where an uninterrupted run ends.

/**
 * Appends events to a run's log in a child process and returns the events log's total end. Not in
 * this process: it reads each directory once, at the end, after the engine processes wrote to it
 * (lmdb-js may keep serving a view opened earlier in the same process).
 */
function append(dir: string, events: TrackedEvent[]): Promise<number> {
  const file = join(dir, `append-${Date.now()}.json`)
  mkdirSync(dir, { recursive: true })
  writeFileSync(file, JSON.stringify(events))
  const out = execFileSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'append-child.ts'), dir, file], { encoding: 'utf8' })
  return Promise.resolve(Number(out.trim()))
}

const outcomeOf = (dir: string) => readRun(dir, identityOutcome)

describe('identity links exactly-once across SIGKILL', () => {
  const root = mkdtempSync(join(tmpdir(), 'tagstream-identity-crash-'))
  afterAll(() => rmSync(root, { recursive: true, force: true }))

  it('ends with the same profiles, links, redirects and changes as an uninterrupted run', async () => {
    const rulesPath = join(root, 'rules.yaml')
    writeFileSync(rulesPath, IDENTITY_RULES)
    const calm = join(root, 'calm')
    const crashy = join(root, 'crashy')
    const first = identityPhase(7, 0, 12_000)
    // Later events of devices already linked are forwarded to their person.
    const second = identityPhase(8, 12_000, 6_000)
    const base = join(root, 'base')
    await append(base, first)
    cpSync(base, calm, { recursive: true })
    cpSync(base, crashy, { recursive: true })
    let kills = 0
    for (const [dir, crash] of [
      [calm, false],
      [crashy, true],
    ] as const) {
      for (const [i, events] of [first, second].entries()) {
        const end = i === 0 ? await append(dir, []) : await append(dir, events)
        if (crash) {
          // During the events, and just past them: the identity records they set off.
          for (const at of [0.3 * end, 0.7 * end, end + 20, end + 150]) if ((await runEngineChild(dir, rulesPath, 0, Math.round(at))) === 'killed') kills++
        }
        expect(await runEngineChild(dir, rulesPath, 0)).toBe('done')
      }
    }
    expect(kills).toBeGreaterThanOrEqual(4)
    const a = await outcomeOf(calm)
    const b = await outcomeOf(crashy)
    expectSameOutcome(b, a)
  })
})
