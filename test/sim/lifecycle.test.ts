import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { COINS_PER_DOLLAR, LIFECYCLE_EVENTS, lifecycleDays, lifecycleEvents, lifecycleNdjsonChunks, resolveLifecycleOptions, type RawEvent } from '../../src/sim/index.ts'
import { CLI_TIMEOUT_MS, runCli } from '../cli/replay-cli.ts'
import { tempDir } from '../support/ndjson.ts'
import { buyAgain, histories, stayAway, wealthTrend } from './lifecycle-signal.ts'

const END = Date.UTC(2026, 10, 1, 12)
const DAY_MS = 86_400_000
const tmp = tempDir()
afterAll(() => tmp.remove())

const bytesOf = (options: { users: number; days: number; seed: number; end?: number }): Buffer => Buffer.concat([...lifecycleNdjsonChunks(lifecycleDays({ end: END, ...options }))])

describe('lifecycle generator: output', () => {
  const small = { users: 300, days: 20, seed: 7 }
  const bytes = bytesOf(small)
  const events = [...lifecycleEvents({ ...small, end: END })]

  it('is deterministic: the same seed gives the same bytes, another seed others', () => {
    expect(bytesOf(small).equals(bytes)).toBe(true)
    const other = bytesOf({ ...small, seed: 8 })
    expect(other.equals(bytes)).toBe(false)
    expect(Math.abs(other.length / bytes.length - 1)).toBeLessThan(0.2)
  })

  it('writes exactly the events the object stream makes, one JSON line each', () => {
    const lines = bytes.toString('utf8').split('\n')
    expect(lines.pop()).toBe('')
    expect(lines.length).toBe(events.length)
    for (let i = 0; i < lines.length; i++) expect(lines[i]).toBe(JSON.stringify(events[i]))
  })

  it('moves only the times when --end moves', () => {
    const later = [...lifecycleEvents({ ...small, end: END + 3_600_000 })]
    expect(later.map((e) => ({ ...e, ts: e.ts - 3_600_000 }))).toEqual(events)
  })

  it('spreads the events over the days before the end, in time order', () => {
    expect(events[0]!.ts).toBeGreaterThanOrEqual(END - 20 * DAY_MS)
    expect(events.at(-1)!.ts).toBeLessThan(END)
    for (let i = 1; i < events.length; i++) expect(events[i]!.ts).toBeGreaterThanOrEqual(events[i - 1]!.ts)
    const perPlayerDay = events.length / (300 * 20)
    expect(perPlayerDay).toBeGreaterThan(0.5)
    expect(perPlayerDay).toBeLessThan(2)
  })

  it("names its events and properties like the game API's, and keeps every wallet consistent", () => {
    expect(new Set(events.map((e) => e.event))).toEqual(new Set(LIFECYCLE_EVENTS))
    const wallet = new Map<string, number>()
    for (const e of events) {
      expect(e.user_id).toMatch(/^u[1-9]\d*$/)
      expect(Number.isSafeInteger(e.player_wealth)).toBe(true)
      const before = wallet.get(e.user_id)
      if (e.event === 'session_start') {
        if (before !== undefined) expect(e.player_wealth).toBe(before + ((e.bonus as number | undefined) ?? 0))
      } else {
        // Only a session opens a player's day.
        expect(before).toBeDefined()
        if (e.event === 'spin') expect(e.player_wealth).toBe(before! - (e.cost as number) + (e.win as number))
        if (e.event === 'purchase') {
          expect(e).toMatchObject({ currency: 'USD', amount: expect.any(Number) })
          expect(e.player_wealth).toBe(before! + Math.round((e.amount as number) * COINS_PER_DOLLAR))
        }
        if (e.event === 'level_up') expect(e).toMatchObject({ level: expect.stringMatching(/^\d+$/), player_wealth: before })
      }
      wallet.set(e.user_id, e.player_wealth as number)
    }
  })

  it("refuses bad options with the option's name", () => {
    expect(() => resolveLifecycleOptions({ users: 0 })).toThrow('users must be an integer from 1 to 10000000, got 0')
    expect(() => resolveLifecycleOptions({ days: 1.5 })).toThrow('days must be an integer from 1 to 3650, got 1.5')
    expect(() => resolveLifecycleOptions({ seed: -1 })).toThrow('seed must be an integer from 0 to 4294967295, got -1')
    expect(() => resolveLifecycleOptions({ end: 1000 })).toThrow('end must be epoch milliseconds after the first simulated day starts')
  })
})

/*
 * The planted signal, measured from the events alone as the daily models will see it, with fixed
 * seeds. Measured values (seeds 1, 2, 3 at 3,000 players) are in the comments: the bounds leave
 * wide margins, so no test depends on luck.
 */
describe('lifecycle generator: planted signal (3,000 players, 45 days)', () => {
  const run = lifecycleDays({ users: 3000, days: 45, seed: 1, end: END })
  const h = histories(lifecycleEvents({}, run), 3000, 45, run.start)

  it('purchases: buyers of days 0-20 buy in days 21-27 at many times the rate of the others', () => {
    // Measured: 27-29% against 1.1-1.7%.
    const { buyers, others } = buyAgain(h, 21)
    expect(buyers.n).toBeGreaterThan(100)
    expect(buyers.rate).toBeGreaterThan(5 * others.rate)
    expect(buyers.rate).toBeGreaterThan(0.12)
  })

  it('churn: players quiet in the 3 days before day 30 stay away in days 30-36 far more often than active ones', () => {
    // Measured: 56-59% against 19-22%.
    const { quiet, active } = stayAway(h, 30)
    expect(Math.min(quiet.n, active.n)).toBeGreaterThan(500)
    expect(quiet.rate).toBeGreaterThan(2 * active.rate)
    expect(quiet.rate - active.rate).toBeGreaterThan(0.2)
  })

  it("wealth: a wallet's change ahead follows its trend, so the trend beats carrying the wallet forward", () => {
    // Measured: week on week 0.18-0.22; two weeks on two weeks 0.33-0.37, cutting the squared error 11-15%.
    const week = wealthTrend(h, 30, 7, 7)
    expect(week.n).toBeGreaterThan(2000)
    expect(week.correlation).toBeGreaterThan(0.08)
    const fortnight = wealthTrend(h, 30, 14, 14)
    expect(fortnight.correlation).toBeGreaterThan(0.2)
    expect(fortnight.errorCut).toBeGreaterThan(0.05)
  })
})

describe('tagstream simulate lifecycle', () => {
  it(
    'writes the file the generator makes and prints a summary',
    async () => {
      const out = join(tmp.dir, 'f.ndjson')
      const run = await runCli(['simulate', 'lifecycle', '--users', '50', '--days', '10', '--seed', '3', '--end', '2026-11-01T12:00:00Z', '--out', out])
      expect(run.stderr).toBe('')
      expect(run.code).toBe(0)
      const file = readFileSync(out)
      expect(file.equals(bytesOf({ users: 50, days: 10, seed: 3 }))).toBe(true)
      const summary = JSON.parse(run.stdout.toString('utf8')) as Record<string, unknown>
      expect(summary).toMatchObject({ out, bytes: file.length, start: '2026-10-22T12:00:00.000Z', end: '2026-11-01T12:00:00.000Z' })
      expect(summary.events).toBe(file.toString('utf8').split('\n').length - 1)
    },
    CLI_TIMEOUT_MS,
  )

  it(
    'ends at the current time by default and refuses bad flags with exit code 2',
    async () => {
      const before = Date.now()
      const run = await runCli(['simulate', 'lifecycle', '--users', '20', '--days', '2', '--out', '-'])
      expect(run.code).toBe(0)
      const times = run.stdout
        .toString('utf8')
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as RawEvent).ts)
      expect(Math.max(...times)).toBeLessThan(Date.now())
      expect(Math.min(...times)).toBeGreaterThanOrEqual(before - 2 * DAY_MS - 60_000)
      const bad = await runCli(['simulate', 'lifecycle', '--days', '0'])
      expect(bad.code).toBe(2)
      expect(bad.stderr).toContain('--days 0: must be an integer from 1 to 3650')
    },
    CLI_TIMEOUT_MS,
  )
})
