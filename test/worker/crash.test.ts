import { writeFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { appendEvents } from '../../src/ingest/append-events.ts'
import { caughtUp, CrashRuns, holders, outcome, requireKafka, RULES, sleep, takenOver, until, workload, type CrashRun, type WorkerProcess } from './helpers.ts'

const PARTITIONS = 8

describe('tagstream worker: exactly-once across SIGKILL and a paused worker', () => {
  const crash = new CrashRuns('crash', PARTITIONS)
  const { logs } = crash
  const open = (label: string) => crash.open(label)
  const start = (run: CrashRun, id: string) => crash.start(run, id)
  const done = (run: CrashRun) => until('every partition checkpointed at the end of the log', async () => ((await caughtUp(run.log, run.store, PARTITIONS)) ? true : undefined), 60_000, logs)

  beforeAll(() => {
    requireKafka()
    writeFileSync(crash.segments, RULES)
  })
  afterAll(() => crash.cleanup())

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

    // Two workers while the events arrive. One is SIGKILLed (and replaced) twice in the middle of a
    // backlog, while outputs are dense: whatever it appended after its last checkpoint is regenerated
    // by the next owner and must be recognised. The other is frozen (SIGSTOP) twice while idle; events
    // arrive while it sleeps, its partitions move past its lease, and once the others have processed
    // them it is woken up: its stale poll finds events to process and must neither append (mid-stream,
    // dense outputs: the append guard) nor checkpoint (at the end, rare outputs: the fence).
    const crashy = await open('crashy')
    const alive = new Map<string, WorkerProcess>()
    const launch = (id: string) => alive.set(id, start(crashy, id)).get(id)!
    const feed = (from: number, batches: number) => appendEvents(crashy.log, events.slice(from * 1_000, (from + batches) * 1_000), PARTITIONS)
    const freezeWhile = async (w: WorkerProcess, from: number, batches: number) => {
      // Caught up: every output it appended is checkpointed and no append is in flight (a freeze in
      // the middle of appends is test/worker/paused-busy.test.ts's).
      await done(crashy)
      // (A rebalance may be under way: its members' assignments are empty until it completes.)
      await until(`${w.id} holding partitions`, async () => ((await holders(crashy.prefix, crashy.schema.schema)).some((l) => l.owner === w.id) ? true : undefined), 60_000, logs)
      w.signal('SIGSTOP')
      await feed(from, batches)
      await takenOver(crashy.prefix, crashy.schema.schema, w.id, PARTITIONS, logs)
      await done(crashy)
      w.signal('SIGCONT')
    }
    launch('k1')
    launch('k2')
    await Promise.all([...alive.values()].map((w) => w.joined))
    let kills = 0
    for (let batch = 0; batch < 60; batch++) {
      if (batch === 8 || batch === 40) {
        const victim = alive.get(batch === 8 ? 'k1' : 'k3')!
        await victim.joined
        // Five batches at once make a backlog, so the victim is mid-work 40 ms later.
        await feed(batch, 5)
        await sleep(40)
        victim.signal('SIGKILL')
        expect((await victim.exited).signal).toBe('SIGKILL')
        alive.delete(victim.id)
        kills++
        launch(batch < 40 ? 'k3' : 'k4')
      } else if (batch === 22 || batch === 55) {
        if (batch === 55) await alive.get('k4')!.joined
        await freezeWhile(alive.get('k2')!, batch, 5)
      } else {
        await feed(batch, 1)
        await sleep(40)
        continue
      }
      batch += 4
    }
    await done(crashy)
    // A worker still starting has no SIGTERM handler yet.
    await Promise.all([...alive.values()].map((w) => w.joined))
    for (const w of alive.values()) w.signal('SIGTERM')
    for (const w of alive.values()) expect(await w.exited).toEqual({ code: 0, signal: null })
    expect(kills).toBe(2)
    // The frozen worker noticed on waking that its partitions had moved (its group membership or leases gone), and let its stale work go.
    expect(alive.get('k2')!.stderr).toMatch(/membership lost|lease lost|LeaseLostError|FencedError/)

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
