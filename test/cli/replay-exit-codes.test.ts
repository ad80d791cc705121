import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { tempDir } from '../support/ndjson.ts'
import { CLI_TIMEOUT_MS, RULES, runCli, summaryOf, workload, writeLines } from './replay-cli.ts'

/** docs/replay.md: 0 replayed, 1 could not read or write a file, 2 usage or rules, 3 rejected lines with --strict. */
describe('tagstream replay exit codes', { timeout: CLI_TIMEOUT_MS }, () => {
  const tmp = tempDir()
  afterAll(() => tmp.remove())
  const rules = join(tmp.dir, 'rules.yaml')
  writeFileSync(rules, RULES)
  const clean = writeLines(join(tmp.dir, 'clean.ndjson'), workload(50))
  const withBad = writeLines(join(tmp.dir, 'bad.ndjson'), [...workload(50), 'not json', { event: 'spin', user_id: '1', ts: 1700000000 }])
  const replay = (...args: string[]) => runCli(['replay', ...args])

  it('0 when replayed, rejected lines reported; 3 for them only with --strict', async () => {
    const [lenient, strict, strictClean] = await Promise.all([
      replay('--input', withBad, '--segments', rules),
      replay('--input', withBad, '--segments', rules, '--strict'),
      replay('--input', clean, '--segments', rules, '--strict'),
    ])
    expect(lenient.code).toBe(0)
    const summary = summaryOf(lenient.stdout.toString('utf8'))
    expect(summary.rejected).toBe(2)
    expect(summary.firstErrors).toEqual([
      { line: 51, error: expect.stringMatching(/^invalid JSON/) as unknown },
      { line: 52, error: expect.stringMatching(/^ts: looks like epoch seconds/) as unknown },
    ])
    expect(strict.code).toBe(3)
    // The result is printed all the same.
    expect(summaryOf(strict.stdout.toString('utf8'))).toEqual(summary)
    expect(strictClean.code).toBe(0)
  })

  it('2 for a usage error or rules that do not parse, naming line and column', async () => {
    const badRules = join(tmp.dir, 'bad-rules.yaml')
    writeFileSync(badRules, 'segments:\n  busy:\n    when: count(spin, 1m) >=\n')
    const [rulesError, unknown, missing, asOf, lateness] = await Promise.all([
      replay('--input', clean, '--segments', badRules),
      replay('--input', clean, '--segments', rules, '--no-such-option'),
      replay('--input', clean),
      replay('--input', clean, '--segments', rules, '--as-of', 'yesterday'),
      replay('--input', clean, '--segments', rules, '--lateness', '-1'),
    ])
    expect(rulesError.code).toBe(2)
    expect(rulesError.stderr).toMatch(/bad-rules\.yaml: segments\.busy\.when: line 3, column \d+: /)
    expect(rulesError.stdout.length).toBe(0)
    for (const run of [unknown, missing, asOf, lateness]) {
      expect(run.code).toBe(2)
      expect(run.stdout.length).toBe(0)
    }
    expect(missing.stderr).toMatch(/--segments/)
    expect(asOf.stderr).toMatch(/--as-of/)
  })

  it('1 when a file cannot be read or written', async () => {
    const dir = join(tmp.dir, 'a-directory')
    mkdirSync(dir)
    const corrupt = join(tmp.dir, 'corrupt.ndjson.gz')
    writeFileSync(corrupt, 'this is not gzip')
    const runs = await Promise.all([
      replay('--input', join(tmp.dir, 'missing.ndjson'), '--segments', rules),
      replay('--input', dir, '--segments', rules),
      replay('--input', corrupt, '--segments', rules),
      replay('--input', clean, '--segments', join(tmp.dir, 'missing.yaml')),
      replay('--input', clean, '--segments', rules, '--changes', join(tmp.dir, 'no-such-dir', 'changes.ndjson')),
      // A full disk, where the system has one to offer.
      ...(existsSync('/dev/full') ? [replay('--input', clean, '--segments', rules, '--changes', '/dev/full')] : []),
    ])
    for (const run of runs) {
      expect(run.code).toBe(1)
      expect(run.stdout.length).toBe(0)
      expect(run.stderr).toMatch(/^tagstream replay: /m)
    }
    expect(runs[0]!.stderr).toMatch(/missing\.ndjson/)
    expect(runs[4]!.stderr).toMatch(/cannot write .*changes\.ndjson/)
    if (runs[5]) expect(runs[5].stderr).toMatch(/cannot write \/dev\/full: ENOSPC/)
  })
})
