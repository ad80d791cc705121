/**
 * Seed 000 as its user runs it, against a running `tagstream serve` (docs/simulators.md,
 * docs/operations.md): the slots stream made by the seed's generator (`tagstream simulate slots`),
 * written in bulk batches of 1,000 as its notebook wrote them (curl here), tagged by the seed's rule
 * (10 spins in 120 minutes and 2 purchases, kept 3 minutes), then the seed's own questions: how many
 * users its store holds (`select count(1) count from slots_users`), which have purchases and spins
 * in the window (its KV filter), who is tagged, and its function's log lines (`grep -e Runtime -e
 * Worker`: here the engine's progress line). Each answer is checked against a reference computed
 * from the generated file.
 */
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startServeChild, type ServeChild } from '../support/serve-child.ts'
import { until } from '../support/until.ts'

const run = promisify(execFile)
const KEY = 'seed-000-key'
const RULES = `segments:
  active_player:
    description: seed 000 - SPINS_THRESHOLD 10 spins in TRACK_MINUTES 120, PURCHASES_THRESHOLD 2, KEEP_ACTIVITY 3
    when: count(spin, 120m) >= 10 and count(in_app_purchase) >= 2
    keep: 3m
`
const MIN = 60_000

interface SlotEvent {
  event: 'spin' | 'in_app_purchase'
  user_id: string
  ts: number
}

describe("seed 000's pipeline, as its user runs it", () => {
  const dir = mkdtempSync(join(tmpdir(), 'tagstream-seed000-'))
  const file = join(dir, 'slots.ndjson')
  let server: ServeChild
  let events: SlotEvent[]

  beforeAll(async () => {
    writeFileSync(join(dir, 'rules.yaml'), RULES)
    await run(process.execPath, ['bin/tagstream.mjs', 'simulate', 'slots', '--users', '400', '--spins', '40000', '--seed', '7', '--out', file])
    events = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as SlotEvent)
    server = await startServeChild(['--data', join(dir, 'data'), '--partitions', '4'], KEY, ['--segments', join(dir, 'rules.yaml'), '--progress-ms', '300', '--retention-days', '3650'], {
      warehouse: true,
      logLevel: 'info',
    })
  })
  afterAll(async () => {
    await server?.kill()
    rmSync(dir, { recursive: true, force: true })
  })

  const headers = { authorization: `Bearer ${KEY}` }
  const sql = async (query: string): Promise<unknown[][]> => {
    const res = await fetch(`${server.url}/v1/query`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify({ sql: query }) })
    expect(res.status, await res.clone().text()).toBe(200)
    return ((await res.json()) as { rows: unknown[][] }).rows
  }

  it('takes the stream in batches of 1,000 and answers the seed questions as the reference does', { timeout: 240_000 }, async () => {
    // The notebook's bulk write: batches of 1,000 records, here one curl each.
    const lines = readFileSync(file, 'utf8').trim().split('\n')
    for (let i = 0; i < lines.length; i += 1_000) {
      const chunk = join(dir, 'chunk.ndjson')
      writeFileSync(chunk, lines.slice(i, i + 1_000).join('\n') + '\n')
      const { stdout } = await run('curl', ['-s', '-H', `Authorization: Bearer ${KEY}`, '-H', 'Content-Type: application/x-ndjson', '--data-binary', `@${chunk}`, `${server.url}/v1/events`])
      expect(JSON.parse(stdout)).toMatchObject({ accepted: Math.min(1_000, lines.length - i), rejected: [] })
    }

    // The reference, from the file alone.
    const T = Math.max(...events.map((e) => e.ts))
    const byUser = new Map<string, { spins: number[]; purchases: number }>()
    for (const e of events) {
      const u = byUser.get(e.user_id) ?? { spins: [], purchases: 0 }
      if (e.event === 'spin') u.spins.push(e.ts)
      else u.purchases++
      byUser.set(e.user_id, u)
    }
    const spinsSince = (u: { spins: number[] }, from: number) => u.spins.filter((t) => t > from).length
    // Tagged at the end: the rule holds over the last 120 minutes (1-minute buckets: a bucket's slack either way), or held within KEEP_ACTIVITY.
    const surely = [...byUser].filter(([, u]) => u.purchases >= 2 && spinsSince(u, T - 119 * MIN) >= 10).map(([id]) => id)
    const maybe = new Set([...byUser].filter(([, u]) => u.purchases >= 2 && spinsSince(u, T - 125 * MIN) >= 10).map(([id]) => id))
    expect(surely.length).toBeGreaterThan(0)

    // Every event landed: the log's engine and the warehouse.
    await until('the warehouse holding every event', async () => Number((await sql('SELECT count(*) FROM events'))[0]![0]) === events.length, 60_000)
    // `select count(1) count from slots_users`: one row per user with activity.
    expect(Number((await sql('SELECT count(DISTINCT user_id) FROM events'))[0]![0])).toBe(byUser.size)
    // The KV filter `purchases>0 AND spin_array != no_spins`: bought once and spun within the 120 minutes.
    const kv = await sql(`SELECT user_id FROM events GROUP BY user_id
      HAVING count(*) FILTER (WHERE event = 'in_app_purchase') > 0
         AND count(*) FILTER (WHERE event = 'spin' AND epoch_ms(ts) > ${T - 120 * MIN}) > 0 ORDER BY user_id`)
    const kvRef = [...byUser].filter(([, u]) => u.purchases > 0 && spinsSince(u, T - 120 * MIN) > 0).map(([id]) => id)
    expect(kv.map((r) => r[0]).sort()).toEqual(kvRef.sort())

    // Profiles: each user's counts as the file has them (a sample of ten).
    const sample = [...byUser.keys()].slice(0, 10)
    await until('the engine caught up', async () => {
      const p = (await (await fetch(`${server.url}/v1/profiles/${sample[9]}`, { headers })).json()) as { counts?: Record<string, number> }
      const u = byUser.get(sample[9]!)!
      return (p.counts?.spin ?? 0) === u.spins.length && (p.counts?.in_app_purchase ?? 0) === u.purchases
    })
    for (const id of sample) {
      const p = (await (await fetch(`${server.url}/v1/profiles/${id}`, { headers })).json()) as { counts: Record<string, number> }
      const u = byUser.get(id)!
      expect([id, p.counts.spin ?? 0, p.counts.in_app_purchase ?? 0]).toEqual([id, u.spins.length, u.purchases])
    }

    // Who is tagged: the segment's members, between the reference's bounds.
    const members = await until('the members', async () => {
      const res = await fetch(`${server.url}/v1/segments/active_player/members?limit=1000`, { headers })
      const body = (await res.json()) as { members?: Array<{ user_id: string }> }
      const ids = (body.members ?? []).map((m) => m.user_id)
      return ids.length >= surely.length ? ids : null
    })
    for (const id of surely) expect(members).toContain(id)
    for (const id of members) expect(maybe.has(id), id).toBe(true)

    // `kubectl logs … | grep -e Runtime -e Worker`: the engine's progress line, with every figure the function logged.
    const line = await until('a progress line counting every event', () => {
      const found = server.stderr
        .split('\n')
        .filter((l) => l.includes('"engine progress"'))
        .map((l) => JSON.parse(l) as Record<string, number>)
        .find((l) => l.processedEvents === events.length)
      return found ?? null
    })
    expect(line.runtimeSeconds).toBeGreaterThan(0)
    expect(line.eventsPerSecond).toBeGreaterThan(0)
    expect(line.taggedUsers).toBe(members.length)
    expect(line.users).toBe(byUser.size)
    for (const k of ['intervalEventsPerSecond', 'toggledUsers', 'activeUsers']) expect(typeof line[k]).toBe('number')
  })
})
