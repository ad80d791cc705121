import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { replayFile } from '../../src/cli/replay.ts'
import { tempDir } from '../support/ndjson.ts'
import { CLI_TIMEOUT_MS, RULES, runCli, summaryOf, workload, writeLines } from './replay-cli.ts'

describe('tagstream replay ends at the latest event time of the file', { timeout: CLI_TIMEOUT_MS }, () => {
  const tmp = tempDir()
  afterAll(() => tmp.remove())
  const rules = join(tmp.dir, 'rules.yaml')
  writeFileSync(rules, RULES)
  const events = workload()
  // The latest event is not the last line: the end is the whole file's latest time, over all partitions.
  const [last] = events.splice(events.length - 1, 1)
  events.splice(events.length - 30, 0, last!)
  const latest = Math.max(...events.map((e) => e.ts as number))
  const input = writeLines(join(tmp.dir, 'events.ndjson'), events)
  const replay = (latenessMs: number, asOf?: number) => replayFile(input, rules, { partitions: 4, engine: { allowedLatenessMs: latenessMs }, ...(asOf === undefined ? {} : { asOf }) })

  it('with --lateness too, not at the latest watermark (latest time minus the lateness)', async () => {
    const runs = await Promise.all([0, 5_000, 60_000, 120_000].map((lateness) => replay(lateness)))
    for (const r of runs) expect(r.asOf).toBe(latest)
    // The latest event is 29 lines (58 s) early: late without lateness, on time with a minute of it.
    expect(runs[0]!.late).toBeGreaterThan(0)
    const [, , minute, twoMinutes] = runs
    expect(minute!.late).toBe(0)
    expect(twoMinutes!.late).toBe(0)
    // Nothing late, all of it applied by the end: the lateness then changes nothing about the end state.
    expect(twoMinutes!.members).toEqual(minute!.members)
    expect(Object.values(minute!.members).flat().length).toBeGreaterThan(0)
  })

  it('--as-of still decides when given', async () => {
    const r = await replay(60_000, latest - 90_000)
    expect(r.asOf).toBe(latest - 90_000)
    expect(r.skipped).toBeGreaterThan(0)
  })

  it('prints that time as asOf', async () => {
    const run = await runCli(['replay', '--input', input, '--segments', rules, '--lateness', '60000'])
    expect(run.code).toBe(0)
    expect(summaryOf(run.stdout.toString('utf8')).asOf).toBe(new Date(latest).toISOString())
  })
})
