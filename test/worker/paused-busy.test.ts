import { writeFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { appendEvents } from '../../src/ingest/append-events.ts'
import { CrashRuns, holders, requireKafka, RULES, sleep, takenOver, until, workload } from './helpers.ts'

const PARTITIONS = 8

/*
 * The failure docs/deployment.md used to call "the limit": a worker frozen while it appends, whose
 * partitions move to another worker, and which then wakes up with appends already past its own
 * check. Frozen in the middle of a backlog (outputs in flight nearly always), three times. Its
 * outputs go through the partition's Kafka transaction, and the new owner's writer fenced it at the
 * broker: nothing it had in flight or sends after waking is ever seen by a reader, so every stream
 * ends as one uninterrupted worker's. With TAGSTREAM_TRANSACTIONS=off (the lease's append margin
 * only) the woken worker's stale outputs land in the streams and this test fails.
 */
describe('tagstream worker: a worker paused in the middle of its appends', () => {
  const crash = new CrashRuns('paused', PARTITIONS)
  const { logs } = crash
  const done = (run: Awaited<ReturnType<typeof crash.open>>) => crash.done(run, 90_000)

  beforeAll(() => {
    requireKafka()
    writeFileSync(crash.segments, RULES)
  })
  afterAll(() => crash.cleanup())

  it('lands none of its outputs after a takeover: the streams equal one uninterrupted worker', async () => {
    const events = workload(48_000)
    const calm = await crash.calm(events, 90_000)

    const crashy = await crash.open('crashy')
    const feed = (from: number, batches: number) => appendEvents(crashy.log, events.slice(from * 1_000, (from + batches) * 1_000), PARTITIONS)
    const a = crash.start(crashy, 'a')
    let frozen = crash.start(crashy, 'f1')
    await Promise.all([a.joined, frozen.joined])
    const stale: string[] = []
    for (let round = 0; round < 3; round++) {
      await until(`${frozen.id} holding partitions`, async () => ((await holders(crashy.prefix, crashy.schema.schema)).some((l) => l.owner === frozen.id) ? true : undefined), 60_000, logs)
      // A backlog, and the freeze while it is being worked through: appends in flight.
      await feed(round * 16, 8)
      await sleep(150)
      frozen.signal('SIGSTOP')
      await feed(round * 16 + 8, 8)
      await takenOver(crashy.prefix, crashy.schema.schema, frozen.id, PARTITIONS, logs)
      await done(crashy)
      frozen.signal('SIGCONT')
      // Awake: whatever it still had queued goes to the broker now, and is refused or never committed.
      await sleep(1_500)
      stale.push(frozen.stderr)
      frozen.signal('SIGTERM')
      await frozen.exited
      frozen = crash.start(crashy, `f${round + 2}`)
      await frozen.joined
    }
    await done(crashy)
    for (const w of [a, frozen]) w.signal('SIGTERM')
    for (const w of [a, frozen]) expect(await w.exited).toEqual({ code: 0, signal: null })

    await crash.expectSameAs(crashy, calm)
    // Each woken worker learnt it had been fenced (or that its leases were gone) and let its stale work go.
    for (const log of stale) expect(log).toMatch(/WriterFencedError|membership lost|lease lost|LeaseLostError|FencedError/)
  }, 420_000)
})
