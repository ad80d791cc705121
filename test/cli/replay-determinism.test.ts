import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { tempDir } from '../support/ndjson.ts'
import { CLI_TIMEOUT_MS, RULES, runCli, summaryOf, workload, writeLines } from './replay-cli.ts'

describe('tagstream replay: the same input gives the same bytes', { timeout: CLI_TIMEOUT_MS }, () => {
  const tmp = tempDir()
  afterAll(() => tmp.remove())
  const rules = join(tmp.dir, 'rules.yaml')
  writeFileSync(rules, RULES)
  // A bad line and an event with no time too: the default time would be the wall clock.
  const input = writeLines(join(tmp.dir, 'events.ndjson'), [...workload(), '{"event":', { event: 'spin', user_id: '5' }])
  const args = ['--partitions', '4', 'replay', '--input', input, '--segments', rules, '--lateness', '5000']

  it('prints identical stdout on two runs, with timings on stderr only', async () => {
    const [a, b] = await Promise.all([runCli(args), runCli(args)])
    expect(a.code).toBe(0)
    expect(b.code).toBe(0)
    expect(a.stdout.length).toBeGreaterThan(0)
    expect(a.stdout.equals(b.stdout)).toBe(true)
    const summary = summaryOf(a.stdout.toString('utf8'))
    expect(summary).not.toHaveProperty('seconds')
    expect(summary).not.toHaveProperty('eventsPerSecond')
    expect(summary.rejected).toBe(2)
    expect(a.stderr).toMatch(/events\/s/)
  })

  it('streams identical --changes - on two runs', async () => {
    const [a, b] = await Promise.all([runCli([...args, '--changes', '-']), runCli([...args, '--changes', '-'])])
    expect(a.code).toBe(0)
    expect(a.stdout.toString('utf8').split('\n').length).toBeGreaterThan(10)
    expect(a.stdout.equals(b.stdout)).toBe(true)
  })
})
