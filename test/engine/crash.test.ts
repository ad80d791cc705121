import { spawn } from 'node:child_process'
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { validateEvent, type TrackedEvent } from '../../src/events/index.ts'
import { appendEvents } from '../../src/ingest/append-events.ts'
import { TOPICS, type EventLog } from '../../src/log/event-log.ts'
import { openEventLog } from '../../src/log/open-log.ts'
import { EmbeddedStateStore } from '../../src/state/embedded/state-store.ts'

const RULES = `
segments:
  high_roller:
    when: count(spin, 20m) >= 30 and sum(in_app_purchase.amount, 20m) > 5
    keep: 2m
  idle_spender:
    when: sum(in_app_purchase.amount) > 0 and count(spin, 10m) < 3
triggers:
  big_buy:
    on: in_app_purchase
    when: amount > 9
`
const child = join(import.meta.dirname, 'crash-child.ts')

/** A slots-like stream: 400 users, 60,000 events over 2 hours, in time order. */
function workload(): TrackedEvent[] {
  let s = 42
  const rnd = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32)
  const t0 = Date.UTC(2026, 10, 1, 10)
  const out: TrackedEvent[] = []
  for (let i = 0; i < 60_000; i++) {
    const user = String(1 + Math.floor(rnd() ** 2 * 400))
    const purchase = rnd() < 0.02
    const raw = purchase ? { event: 'in_app_purchase', user_id: user, ts: t0 + i * 120, amount: [0.99, 4.99, 9.99, 19.99][Math.floor(rnd() * 4)] } : { event: 'spin', user_id: user, ts: t0 + i * 120, bet: 1 }
    const v = validateEvent({ ...raw, event_id: `e${i}` }, { receivedAt: t0 })
    if (!v.ok) throw new Error(v.error.reason)
    out.push(v.event)
  }
  return out
}

function run(dir: string, rulesPath: string, killAfterMs?: number): Promise<'done' | 'killed'> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', child, dir, rulesPath], { stdio: ['ignore', 'pipe', 'inherit'] })
    proc.stdout.on('data', (chunk: Buffer) => {
      if (killAfterMs !== undefined && chunk.toString().includes('started')) setTimeout(() => proc.kill('SIGKILL'), killAfterMs)
    })
    proc.on('exit', (code, signal) => (signal === 'SIGKILL' ? resolve('killed') : code === 0 ? resolve('done') : reject(new Error(`engine exited with ${code}`))))
  })
}

async function readAll(log: EventLog, topic: string, partitions: number): Promise<string[][]> {
  const out: string[][] = []
  for (let p = 0; p < partitions; p++) {
    const values: string[] = []
    for (let offset = 0; ; ) {
      const got = await log.read(topic, p, offset, { maxRecords: 10_000 })
      if (got.length === 0) break
      values.push(...got.map((r) => Buffer.from(r.value).toString()))
      offset = got[got.length - 1]!.offset + 1
    }
    out.push(values)
  }
  return out
}

async function outcome(dir: string) {
  const { log, partitions } = await openEventLog(join(dir, 'log'))
  const store = EmbeddedStateStore.open(join(dir, 'state'))
  try {
    const users: Record<string, string> = {}
    const checkpoints = []
    for (let p = 0; p < partitions; p++) {
      for await (const u of store.loadUsers('engine', p)) users[u.key] = Buffer.from(u.state!).toString('base64')
      checkpoints.push(await store.loadCheckpoint('engine', p))
    }
    return {
      changes: await readAll(log, TOPICS.segmentChanges, partitions),
      notifications: await readAll(log, TOPICS.notifications, partitions),
      users,
      checkpoints,
    }
  } finally {
    await store.close()
    await log.close()
  }
}

describe('engine exactly-once across SIGKILL', () => {
  const root = mkdtempSync(join(tmpdir(), 'tagstream-engine-crash-'))
  afterAll(() => rmSync(root, { recursive: true, force: true }))

  it('ends with the same state and the same change stream as an uninterrupted run', async () => {
    const rulesPath = join(root, 'rules.yaml')
    writeFileSync(rulesPath, RULES)
    const base = join(root, 'base')
    const { log, partitions } = await openEventLog(join(base, 'log'), { partitions: 4 })
    const events = workload()
    for (let i = 0; i < events.length; i += 1_000) await appendEvents(log, events.slice(i, i + 1_000), partitions)
    await log.close()
    const calm = join(root, 'calm')
    const crashy = join(root, 'crashy')
    cpSync(base, calm, { recursive: true })
    cpSync(base, crashy, { recursive: true })

    expect(await run(calm, rulesPath)).toBe('done')
    let kills = 0
    for (const delay of [150, 400, 250, 700]) if ((await run(crashy, rulesPath, delay)) === 'killed') kills++
    expect(await run(crashy, rulesPath)).toBe('done')
    expect(kills).toBeGreaterThanOrEqual(2)

    const a = await outcome(calm)
    const b = await outcome(crashy)
    const total = a.changes.flat().length
    expect(total).toBeGreaterThan(50)
    expect(a.notifications.flat().length).toBeGreaterThan(50)
    expect(b.changes).toEqual(a.changes)
    expect(b.notifications).toEqual(a.notifications)
    expect(b.users).toEqual(a.users)
    expect(b.checkpoints).toEqual(a.checkpoints)
    // Per user, versions run 1, 2, 3… with no gap or repeat.
    const versions = new Map<string, number>()
    for (const c of a.changes.flat().map((s) => JSON.parse(s) as { user_id: string; version: number })) {
      expect(c.version).toBe((versions.get(c.user_id) ?? 0) + 1)
      versions.set(c.user_id, c.version)
    }
  })
})
