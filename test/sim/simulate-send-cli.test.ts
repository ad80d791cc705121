import { Command } from 'commander'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest'
import { registerSimulate } from '../../src/cli/simulate.ts'
import { clickstreamEvents, gameRequests, spreadClock } from '../../src/sim/index.ts'
import { useTestServer } from '../api/harness.ts'
import { tempDir } from '../support/ndjson.ts'

const tmp = tempDir()
afterAll(() => tmp.remove())
afterEach(() => vi.restoreAllMocks())

async function run(args: string[]): Promise<string> {
  const printed: string[] = []
  vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => printed.push(String(s)) > 0)
  const p = new Command('tagstream').exitOverride().configureOutput({ writeErr: () => undefined, writeOut: () => undefined })
  registerSimulate(p)
  await p.parseAsync(['simulate', ...args], { from: 'user' })
  vi.restoreAllMocks()
  return printed.join('')
}

const lines = (path: string) =>
  readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as unknown)

describe('tagstream simulate clickstream and game', () => {
  it('writes the clickstream the generator makes for the same seed and range', async () => {
    const out = join(tmp.dir, 'clicks.ndjson')
    const summary = JSON.parse(await run(['clickstream', '--events', '1500', '--seed', '7', '--partners', '2', '--hours', '1', '--end', '2026-03-04T05:00:00Z', '--out', out])) as Record<
      string,
      unknown
    >
    const it = clickstreamEvents({ seed: 7, partners: 2 }, spreadClock(Date.UTC(2026, 2, 4, 5), 3_600_000, 1500))
    expect(lines(out)).toEqual(Array.from({ length: 1500 }, () => it.next().value))
    expect(summary).toMatchObject({ out, events: 1500, end: '2026-03-04T05:00:00.000Z', bytes: readFileSync(out).length })
  })

  it("writes the game's requests, one per line", async () => {
    const out = join(tmp.dir, 'game.ndjson')
    await run(['game', '--requests', '400', '--players', '9', '--seed', '3', '--out', out])
    const it = gameRequests({ players: 9, seed: 3 })
    expect(lines(out)).toEqual(Array.from({ length: 400 }, () => it.next().value))
  })

  it.each([
    [['clickstream', '--url', 'http://127.0.0.1:1'], '--url needs --key'],
    [['clickstream', '--url', 'http://127.0.0.1:1', '--key', 'k', '--out', 'x.ndjson'], '--out and --url cannot be used together'],
    [['clickstream', '--events', '0'], '--events 0 (until Ctrl-C) needs --url and --live'],
    [['clickstream', '--live', '--out', 'x.ndjson'], '--live applies when sending (--url)'],
    [['clickstream', '--key', 'a,,b'], '--key a,,b: must be an API key or a comma-separated list of them'],
    [['clickstream', '--rate', 'fast'], '--rate fast: must be an integer of at least 0'],
    [['clickstream', '--batch', '0'], '--batch 0: must be an integer from 1 to 10000'],
    [['clickstream', '--batch', '20000'], '--batch 20000: must be an integer from 1 to 10000'],
    [['game', '--requests', '0'], '--requests 0 (until Ctrl-C) needs --url'],
    [['game', '--url', 'http://127.0.0.1:1', '--key', 'a,b'], '--key takes one key for the game'],
    [['game', '--concurrency', '0'], '--concurrency 0: must be an integer from 1 to 1024'],
    [['slots', '--live'], '--live applies when sending (--url)'],
  ])('refuses %j', async (args, message) => {
    const err = await run(args).then(
      () => null,
      (e: unknown) => e as Error,
    )
    expect(err?.message).toContain(message)
  })

  describe('over HTTP', () => {
    const server = useTestServer()

    it('sends clickstream, slots and game traffic and prints what the server stored', async () => {
      const clicks = JSON.parse(await run(['clickstream', '--url', server.url, '--key', `${server.keys.write},${server.keys.acme}`, '--events', '700', '--batch', '100', '--live'])) as Record<
        string,
        unknown
      >
      expect(clicks).toMatchObject({ url: server.url, sent: 700, accepted: 700, rejected: 0, interrupted: false })
      const slots = JSON.parse(await run(['slots', '--url', server.url, '--key', server.keys.write, '--users', '20', '--spins', '300'])) as Record<string, unknown>
      expect(slots).toMatchObject({ accepted: slots.sent, rejected: 0 })
      const game = JSON.parse(await run(['game', '--url', server.url, '--key', server.keys.write, '--requests', '40', '--players', '4', '--sessions', '2'])) as Record<string, unknown>
      expect(game).toMatchObject({ sent: 40, accepted: 40, unexpected: 0 })
    })
  })
})
