import { Command, CommanderError } from 'commander'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest'
import { registerSimulate } from '../../src/cli/simulate.ts'
import { writeSlotsNdjson } from '../../src/sim/index.ts'
import { tempDir } from '../support/ndjson.ts'

const tmp = tempDir()
afterAll(() => tmp.remove())
afterEach(() => vi.restoreAllMocks())

/** A program that throws instead of exiting and keeps commander's messages off the console. */
function program(): { run(args: string[]): Promise<void>; stderr: string[] } {
  const stderr: string[] = []
  const p = new Command('tagstream').exitOverride().configureOutput({ writeErr: (s) => stderr.push(s), writeOut: () => undefined })
  registerSimulate(p)
  return { run: async (args) => void (await p.parseAsync(['simulate', 'slots', ...args], { from: 'user' })), stderr }
}

async function failure(args: string[]): Promise<CommanderError> {
  const err = await program()
    .run(args)
    .then(
      () => null,
      (e: unknown) => e,
    )
  expect(err).toBeInstanceOf(CommanderError)
  return err as CommanderError
}

describe('tagstream simulate slots', () => {
  it('writes the same file as writeSlotsNdjson and prints a summary', async () => {
    const out = join(tmp.dir, 'cli.ndjson')
    const ref = join(tmp.dir, 'ref.ndjson')
    const printed: string[] = []
    vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => printed.push(String(s)) > 0)
    await program().run(['--users', '50', '--spins', '3000', '--seed', '4', '--hours', '1.5', '--end', '2026-03-04T05:06:07Z', '--order', 'random', '--out', out])
    await writeSlotsNdjson(ref, { users: 50, spins: 3000, seed: 4, hours: 1.5, end: Date.UTC(2026, 2, 4, 5, 6, 7), order: 'random' })
    expect(readFileSync(out).equals(readFileSync(ref))).toBe(true)
    const summary = JSON.parse(printed.join('')) as Record<string, unknown>
    expect(summary).toMatchObject({ out, end: '2026-03-04T05:06:07.000Z', bytes: readFileSync(out).length })
    expect(summary.events).toBe(readFileSync(out, 'utf8').split('\n').length - 1)
  })

  it('accepts --end as epoch ms and gzips a .gz output', async () => {
    const out = join(tmp.dir, 'cli.ndjson.gz')
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true)
    await program().run(['--users', '20', '--spins', '500', '--end', '1790000000000', '--out', out])
    const lines = gunzipSync(readFileSync(out)).toString('utf8').trim().split('\n')
    const times = lines.map((l) => (JSON.parse(l) as { ts: number }).ts)
    expect(Math.max(...times)).toBeLessThanOrEqual(1_790_000_000_000)
    expect(Math.min(...times)).toBeGreaterThanOrEqual(1_790_000_000_000 - 3 * 3_600_000)
  })

  it.each([
    [['--users', 'x'], '--users x: must be an integer from 1 to 4294967295'],
    [['--users', '0'], '--users 0: must be an integer from 1 to 4294967295'],
    [['--users', '-5'], '--users -5: must be an integer from 1 to 4294967295'],
    [['--spins', '-3'], '--spins -3: must be an integer of at least 0'],
    [['--spins', '1e6'], '--spins 1e6: must be an integer of at least 0'],
    [['--hours', '0'], '--hours 0: must be a number in (0, 1000]'],
    [['--hours', 'two'], '--hours two: must be a number in (0, 1000]'],
    [['--seed', '4294967296'], '--seed 4294967296: must be an integer from 0 to 4294967295'],
    [['--end', 'yesterday'], '--end yesterday: must be an ISO-8601 date-time or epoch milliseconds'],
    [['--end', '1790000000'], '--end 1790000000: must be an ISO-8601 date-time or epoch milliseconds (looks like epoch seconds; send epoch milliseconds or an ISO-8601 string)'],
    [['--order', 'sorted'], '--order sorted: must be "time" or "random"'],
  ])('rejects %j with exit code 2', async (args, message) => {
    const err = await failure(args)
    expect(err.exitCode).toBe(2)
    expect(err.message).toContain(message)
  })
})
