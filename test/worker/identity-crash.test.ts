import { writeFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { TrackedEvent } from '../../src/events/index.ts'
import { appendEvents } from '../../src/ingest/append-events.ts'
import { TOPICS, type EventLog } from '../../src/log/event-log.ts'
import { expectSameOutcome, IDENTITY_RULES, identityOutcome, identityPhase } from '../engine/identity-workload.ts'
import { caughtUp, CrashRuns, requireKafka, sleep, until, type CrashRun } from './helpers.ts'

// Identity links on Kafka with `tagstream worker` processes (issue 18, item 4): the partitions of a
// link belong to different workers, which hand claims, grants and forwarded events to each other
// through the events topic. Workers SIGKILLed in the middle of that traffic must leave the same
// profiles, links, redirects and changes as one worker never interrupted.

const PARTITIONS = 8

describe('tagstream worker: identity links exactly-once across SIGKILL', () => {
  const crash = new CrashRuns('identity', PARTITIONS)
  const { logs } = crash
  const start = (run: CrashRun, id: string) => crash.start(run, id)
  const feed = async (run: CrashRun, events: TrackedEvent[]) => {
    for (let i = 0; i < events.length; i += 1_000) await appendEvents(run.log, events.slice(i, i + 1_000), PARTITIONS)
  }
  const ends = async (log: EventLog) => {
    let n = 0
    for (let p = 0; p < PARTITIONS; p++) n += (await log.offsets(TOPICS.events, p)).end
    return n
  }
  // Every checkpoint at the end of its partition, twice over with no record appended in between:
  // a partition checked early could otherwise still receive a grant from one checked later.
  const settled = (run: CrashRun) =>
    until(
      'every partition checkpointed at the end of the log, identity traffic over',
      async () => {
        const before = await ends(run.log)
        if (!(await caughtUp(run.log, run.store, PARTITIONS))) return undefined
        await sleep(300)
        return (await caughtUp(run.log, run.store, PARTITIONS)) && (await ends(run.log)) === before ? true : undefined
      },
      90_000,
      logs,
    )

  beforeAll(() => {
    requireKafka()
    writeFileSync(crash.segments, IDENTITY_RULES)
  })
  afterAll(() => crash.cleanup())

  it('ends with the same profiles, links, redirects and changes as one uninterrupted worker', async () => {
    const first = identityPhase(7, 0, 12_000)
    const second = identityPhase(8, 12_000, 6_000)

    // Each phase's events are all in the log before its workers start (in both runs): an event of
    // an id that comes before or after the id's claim in its partition is merged or forwarded, the
    // same profile but not the same change times, so arrival must not race with processing here.
    const calm = await crash.open('calm')
    for (const [i, events] of [first, second].entries()) {
      await feed(calm, events)
      const solo = start(calm, `solo${i}`)
      await solo.joined
      await settled(calm)
      solo.signal('SIGTERM')
      expect(await solo.exited).toEqual({ code: 0, signal: null })
    }

    // Two workers share the partitions; each phase, one is SIGKILLed while the events and the
    // identity records they set off are being processed, and replaced.
    const crashy = await crash.open('crashy')
    let kills = 0
    for (const [i, events] of [first, second].entries()) {
      await feed(crashy, events)
      const alive = [start(crashy, `k${i}a`), start(crashy, `k${i}b`)]
      await Promise.all(alive.map((w) => w.joined))
      await sleep(300)
      const victim = alive.shift()!
      victim.signal('SIGKILL')
      if ((await victim.exited).signal === 'SIGKILL') kills++
      const next = start(crashy, `k${i}c`)
      alive.push(next)
      await next.joined
      await settled(crashy)
      for (const w of alive) w.signal('SIGTERM')
      for (const w of alive) expect(await w.exited).toEqual({ code: 0, signal: null })
    }
    expect(kills).toBe(2)

    const a = await identityOutcome(calm.log, calm.store, PARTITIONS)
    const b = await identityOutcome(crashy.log, crashy.store, PARTITIONS)
    expectSameOutcome(b, a)
  }, 300_000)
})
