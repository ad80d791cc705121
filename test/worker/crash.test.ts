import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { appendEvents } from '../../src/ingest/append-events.ts'
import type { EventLog } from '../../src/log/event-log.ts'
import { openEventLog } from '../../src/log/open-log.ts'
import { PostgresStateStore } from '../../src/state/postgres/state-store.ts'
import { testSchema } from '../state/postgres-helpers.ts'
import { caughtUp, dropTopics, freshPrefix, kafkaUrl, leases, outcome, requireKafka, RULES, until, workerArgs, WorkerProcess, workload } from './helpers.ts'

const PARTITIONS = 8
// Small batches and frequent checkpoints: many moments for a kill to land between an output append and its checkpoint.
const SLOW = ['--batch-size', '300', '--checkpoint-ms', '20']
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

interface Run {
  prefix: string
  schema: ReturnType<typeof testSchema>
  log: EventLog
  store: PostgresStateStore
}

describe('tagstream worker: exactly-once across SIGKILL and a paused worker', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tagstream-worker-crash-'))
  const segments = join(dir, 'rules.yaml')
  const runs: Run[] = []
  const procs: WorkerProcess[] = []

  const open = async (label: string): Promise<Run> => {
    const prefix = freshPrefix(label)
    const schema = testSchema(`crash_${label}`)
    const run = { prefix, schema, log: (await openEventLog(kafkaUrl(prefix), { partitions: PARTITIONS })).log, store: await PostgresStateStore.open(schema.url) }
    runs.push(run)
    return run
  }
  const start = (run: Run, id: string) => {
    const w = new WorkerProcess(id, workerArgs(run.prefix, run.schema.url, segments, SLOW))
    procs.push(w)
    return w
  }
  const logs = () => procs.map((p) => `--- ${p.id}\n${p.stderr.slice(-3_000)}`).join('\n')
  const done = (run: Run) => until('every partition checkpointed at the end of the log', async () => ((await caughtUp(run.log, run.store, PARTITIONS)) ? true : undefined), 120_000, logs)

  beforeAll(() => {
    requireKafka()
    writeFileSync(segments, RULES)
  })
  afterAll(async () => {
    for (const p of procs) p.signal('SIGKILL')
    await Promise.all(procs.map((p) => p.exited))
    for (const r of runs) {
      await r.log.close()
      await r.store.close()
      await r.schema.drop()
      await dropTopics(r.prefix)
    }
    rmSync(dir, { recursive: true, force: true })
  })

  it('ends with the same users, checkpoints and output streams as one uninterrupted worker', async () => {
    const events = workload(60_000)

    // The reference: one worker over the whole log, never interrupted.
    const calm = await open('calm')
    for (let i = 0; i < events.length; i += 1_000) await appendEvents(calm.log, events.slice(i, i + 1_000), PARTITIONS)
    const solo = start(calm, 'solo')
    await solo.joined
    await done(calm)
    solo.signal('SIGTERM')
    expect(await solo.exited).toEqual({ code: 0, signal: null })

    // Two workers while the events arrive; one is SIGKILLed (and replaced) twice, one is frozen past
    // its lease and then resumed, so a stale owner wakes up mid-poll after its partitions moved.
    const crashy = await open('crashy')
    const alive = new Map<string, WorkerProcess>()
    const launch = (id: string) => alive.set(id, start(crashy, id)).get(id)!
    launch('k1')
    launch('k2')
    await Promise.all([...alive.values()].map((w) => w.joined))
    let stale: WorkerProcess | null = null
    let kills = 0
    for (let batch = 0; batch * 1_000 < events.length; batch++) {
      await appendEvents(crashy.log, events.slice(batch * 1_000, (batch + 1) * 1_000), PARTITIONS)
      await sleep(80)
      if (batch === 8 || batch === 40) {
        const victim = batch === 8 ? 'k1' : 'k3'
        alive.get(victim)!.signal('SIGKILL')
        expect((await alive.get(victim)!.exited).signal).toBe('SIGKILL')
        alive.delete(victim)
        kills++
        launch(victim === 'k1' ? 'k3' : 'k4')
      }
      if (batch === 22) {
        stale = alive.get('k2')!
        const before = await leases(crashy.schema.schema)
        stale.signal('SIGSTOP')
        // Frozen well past its 1.5 s lease: the other worker takes every partition over meanwhile.
        await until('the frozen worker\'s partitions taken over', async () => {
          const now = await leases(crashy.schema.schema)
          return now.length === PARTITIONS && now.every((l) => l.owner !== 'k2' && l.owner !== null) ? now : undefined
        }, 30_000, logs)
        expect(before.some((l) => l.owner === 'k2')).toBe(true)
        await sleep(300)
        stale.signal('SIGCONT')
      }
    }
    await done(crashy)
    // A worker still starting has no SIGTERM handler yet.
    await Promise.all([...alive.values()].map((w) => w.joined))
    for (const w of alive.values()) w.signal('SIGTERM')
    for (const w of alive.values()) expect(await w.exited).toEqual({ code: 0, signal: null })
    expect(kills).toBe(2)
    // The frozen worker noticed on waking that its leases had moved, and let its stale work go.
    expect(stale!.stderr).toMatch(/lease lost|LeaseLostError|FencedError/)

    const a = await outcome(calm.log, calm.store, PARTITIONS)
    const b = await outcome(crashy.log, crashy.store, PARTITIONS)
    expect(a.changes.flat().length).toBeGreaterThan(50)
    expect(a.notifications.flat().length).toBeGreaterThan(50)
    for (let p = 0; p < PARTITIONS; p++) {
      expect(b.changes[p], `segment changes of partition ${p}`).toEqual(a.changes[p])
      expect(b.notifications[p], `notifications of partition ${p}`).toEqual(a.notifications[p])
    }
    expect(b.users).toEqual(a.users)
    expect(b.checkpoints).toEqual(a.checkpoints)
  }, 300_000)
})
