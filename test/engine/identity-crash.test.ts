import { spawn } from 'node:child_process'
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { engineOptions } from '../../src/engine/engine-options.ts'
import { prepareRules } from '../../src/engine/engine-rules.ts'
import { buildProfile } from '../../src/engine/profile.ts'
import { decodeUser } from '../../src/engine/user-snapshot.ts'
import { validateEvent, type TrackedEvent } from '../../src/events/index.ts'
import { appendEvents } from '../../src/ingest/append-events.ts'
import { TOPICS } from '../../src/log/event-log.ts'
import { openEventLog } from '../../src/log/open-log.ts'
import { parseRulesYaml } from '../../src/rules/index.ts'
import { EmbeddedStateStore } from '../../src/state/embedded/state-store.ts'
import { readAll } from './outcome.ts'

// Identity links are exactly-once under SIGKILL (issue 18, item 4): claims, grants and forwarded
// events cross partitions through the events log, and a killed engine sends some of them again.
// A run killed at several points, during the events and during the identity traffic that follows
// them, must end where an uninterrupted run ends.

const RULES = `
segments:
  spinner:
    when: count(spin, 20m) >= 5
  regular:
    when: count(app_open) >= 3
`
const child = join(import.meta.dirname, 'crash-child.ts')
const T0 = Date.UTC(2026, 10, 1, 10)

/** Anonymous devices, users, identify calls linking each device to its owner, and aliases between user ids (refused). */
function phase(seed: number, from: number, n: number): TrackedEvent[] {
  let s = seed
  const rnd = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32
  const out: TrackedEvent[] = []
  for (let i = 0; i < n; i++) {
    const ts = T0 + (from + i) * 100
    const device = `d${Math.floor(rnd() * 600)}`
    const user = `u${Math.floor(rnd() * 200)}`
    const r = rnd()
    const raw =
      r < 0.6
        ? { event: rnd() < 0.5 ? 'spin' : 'app_open', anonymous_id: device }
        : r < 0.9
          ? { event: 'spin', user_id: user }
          : r < 0.99
            ? // A device's one owner: two users claiming one device race (the first claim to reach
              // the device's partition wins, in any run), which this comparison cannot allow.
              { event: 'identify', user_id: `u${Number(device.slice(1)) % 200}`, anonymous_id: device }
            : { event: 'alias', user_id: user, previous_id: `u${Math.floor(rnd() * 200)}` }
    const v = validateEvent({ ...raw, ts, event_id: `e${from + i}` }, { receivedAt: ts })
    if (!v.ok) throw new Error(v.error.reason)
    out.push(v.event)
  }
  return out
}

function run(dir: string, rulesPath: string, killAt?: number): Promise<'done' | 'killed'> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', child, dir, rulesPath, '0'], { stdio: ['ignore', 'pipe', 'inherit'] })
    let pending = ''
    proc.stdout.on('data', (chunk: Buffer) => {
      pending += chunk.toString()
      const lines = pending.split('\n')
      pending = lines.pop()!
      for (const line of lines) {
        const m = /^at (\d+)$/.exec(line)
        if (killAt !== undefined && m && Number(m[1]) >= killAt) proc.kill('SIGKILL')
      }
    })
    proc.on('exit', (code, signal) => (signal === 'SIGKILL' ? resolve('killed') : code === 0 ? resolve('done') : reject(new Error(`engine exited with ${code}`))))
  })
}

async function append(dir: string, events: TrackedEvent[]): Promise<number> {
  const { log, partitions } = await openEventLog(join(dir, 'log'))
  for (let i = 0; i < events.length; i += 1_000) await appendEvents(log, events.slice(i, i + 1_000), partitions)
  let end = 0
  for (let p = 0; p < partitions; p++) end += (await log.offsets(TOPICS.events, p)).end
  await log.close()
  return end
}

/**
 * What a run leaves, compared by meaning: each user's profile and links, each redirect, and each
 * user's changes (segment, change, time). Not byte order: where two partitions' identity records
 * meet in a third, their order in its log is a race in any run.
 */
async function outcomeOf(dir: string) {
  const options = engineOptions()
  const rules = prepareRules(parseRulesYaml(RULES), options)
  const { log, partitions } = await openEventLog(join(dir, 'log'))
  const store = EmbeddedStateStore.open(join(dir, 'state'))
  try {
    const users: Record<string, unknown> = {}
    const stats = { linked: 0, refused: 0, forwarded: 0 }
    for (let p = 0; p < partitions; p++) {
      const ckpt = await store.loadCheckpoint('engine', p)
      const clock = ckpt!.engine as { watermark: number; identity?: { stats: typeof stats } }
      for (const k of Object.keys(stats) as Array<keyof typeof stats>) stats[k] += clock.identity?.stats[k] ?? 0
      for await (const row of store.loadUsers('engine', p)) {
        const u = decodeUser(row.state!, rules)
        if (u.redirectTo !== null) users[u.key] = { redirect: u.redirectTo }
        else {
          const pr = buildProfile(u, rules, options, clock.watermark)
          users[u.key] = { traits: pr.traits, counts: pr.counts, metrics: pr.metrics, segments: pr.segments, links: [...(u.links ?? [])].sort() }
        }
      }
    }
    const changes = new Map<string, string[]>()
    for (const v of (await readAll(log, TOPICS.segmentChanges, partitions)).flat()) {
      const c = JSON.parse(v) as { user_id: string; segment: string; change: string; at: number }
      changes.set(c.user_id, [...(changes.get(c.user_id) ?? []), `${c.segment} ${c.change} ${c.at}`])
    }
    // Sorted per user: two grants reaching a person's partition in either order give the same
    // entries at the same time, in that order.
    return { users, stats, changes: Object.fromEntries([...changes].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([u, list]) => [u, list.sort()])) }
  } finally {
    await store.close()
    await log.close()
  }
}

describe('identity links exactly-once across SIGKILL', () => {
  const root = mkdtempSync(join(tmpdir(), 'tagstream-identity-crash-'))
  afterAll(() => rmSync(root, { recursive: true, force: true }))

  it('ends with the same profiles, links, redirects and changes as an uninterrupted run', async () => {
    const rulesPath = join(root, 'rules.yaml')
    writeFileSync(rulesPath, RULES)
    const calm = join(root, 'calm')
    const crashy = join(root, 'crashy')
    const first = phase(7, 0, 12_000)
    // Later events of devices already linked are forwarded to their person.
    const second = phase(8, 12_000, 6_000)
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
          for (const at of [0.3 * end, 0.7 * end, end + 20, end + 150]) if ((await run(dir, rulesPath, Math.round(at))) === 'killed') kills++
        }
        expect(await run(dir, rulesPath)).toBe('done')
      }
    }
    expect(kills).toBeGreaterThanOrEqual(4)
    const a = await outcomeOf(calm)
    const b = await outcomeOf(crashy)
    expect(a.stats.linked).toBeGreaterThan(300)
    expect(a.stats.refused).toBeGreaterThan(10)
    expect(a.stats.forwarded).toBeGreaterThan(500)
    expect(b.stats).toEqual(a.stats)
    expect(b.users).toEqual(a.users)
    expect(b.changes).toEqual(a.changes)
  })
})
