import { writeFileSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { appendEvents } from '../../src/ingest/append-events.ts'
import { TOPICS } from '../../src/log/event-log.ts'
import { PgInstance } from '../support/pg-instance.ts'
import { BROKER, CrashRuns, requireKafka, RULES, sleep, until, workload, type CrashRun } from './helpers.ts'

const PARTITIONS = 8
const PORT = 55433
const EVENTS = 40_000
/** How long Postgres stays down each time: many heartbeats, each restarting partitions that fail again. */
const DOWN_MS = 2_000
/** Batches of 1,000 events appended at once before each crash. */
const BACKLOG = 12

/*
 * Chaos: the state store's Postgres crashes (every server process stopped at once, `pg_ctl -m
 * immediate`: no shutdown checkpoint, every connection cut) in the middle of a backlog and comes
 * back on the same data after WAL recovery, twice, while two workers run with their outputs in
 * transactions. The server is this test's own (test/support/pg-instance.ts: its own cluster and
 * port), so the shared one other tests use is never touched. The workers must live through it
 * (their partitions' loops fail and are started again while still assigned) and end exactly as one
 * uninterrupted worker: streams, users and checkpoints.
 */
describe('tagstream worker: Postgres crashed and restarted under load', () => {
  let pgi: PgInstance | null = null
  let crash: CrashRuns | null = null
  const runs = () => crash!

  beforeAll(async () => {
    requireKafka()
    pgi = await PgInstance.create({ port: PORT })
    crash = new CrashRuns('chaospg', PARTITIONS, undefined, BROKER, pgi.url)
    writeFileSync(crash.segments, RULES)
  }, 120_000)
  afterAll(async () => {
    try {
      await crash?.cleanup()
    } finally {
      await pgi?.remove()
    }
  }, 120_000)

  /** Per partition, the checkpoint's next input offset (-1: none yet); null while the server is unreachable. */
  async function offsets(run: CrashRun): Promise<number[] | null> {
    try {
      const out: number[] = []
      for (let p = 0; p < PARTITIONS; p++) out.push((await run.store.loadCheckpoint('engine', p))?.nextOffset ?? -1)
      return out
    } catch {
      return null
    }
  }

  it('loses no acknowledged event, counts none twice and lands no output twice', async () => {
    const events = workload(EVENTS)
    const calm = await runs().calm(events, 120_000)
    const crashy = await runs().open('crashy')
    const feed = (from: number, batches: number) => appendEvents(crashy.log, events.slice(from * 1_000, (from + batches) * 1_000), PARTITIONS)
    const workers = [runs().start(crashy, 'p1'), runs().start(crashy, 'p2')]
    // Counted line by line from the start (a worker's stderr kept in WorkerProcess is only its tail).
    const restarts = workers.map((w) => {
      const seen = { n: 0 }
      createInterface({ input: w.proc.stderr! }).on('line', (line) => {
        if (line.includes('partition restarted after its loop failed')) seen.n++
      })
      return seen
    })
    await Promise.all(workers.map((w) => w.joined))
    const recovered: number[] = []
    /** Events not yet checkpointed when Postgres went down: the backlog it went down in. */
    const behind: number[] = []
    for (let batch = 0; batch < EVENTS / 1_000;) {
      if (batch === 8 || batch === 24) {
        // A backlog, and the store gone while the workers are in the middle of it: checkpoints fail.
        // They work through a few thousand events in 100 ms here, so the crash follows the appends closely.
        await feed(batch, BACKLOG)
        await sleep(50)
        const before = await offsets(crashy)
        if (before === null) throw new Error('Postgres unreachable before it was crashed')
        let left = 0
        for (let p = 0; p < PARTITIONS; p++) left += (await crashy.log.offsets(TOPICS.events, p)).end - Math.max(0, before[p]!)
        behind.push(left)
        await pgi!.crash()
        await sleep(DOWN_MS)
        await pgi!.start()
        const back = performance.now()
        // Recovered: every partition that had work left checkpoints again (or had reached the end).
        await until(
          'every partition checkpointing again after the restart',
          async () => {
            const now = await offsets(crashy)
            if (now === null) return undefined
            for (let p = 0; p < PARTITIONS; p++) {
              const { end } = await crashy.log.offsets(TOPICS.events, p)
              if (now[p]! <= before[p]! && now[p]! < end) return undefined
            }
            return true
          },
          60_000,
          runs().logs,
        )
        recovered.push(Math.round(performance.now() - back))
        batch += BACKLOG
        continue
      }
      await feed(batch, 1)
      await sleep(40)
      batch++
    }
    await runs().done(crashy, 120_000)
    // Both workers lived through both crashes: each still runs and leaves cleanly now.
    for (const w of workers) expect(w.proc.exitCode, `${w.id} exited early:\n${w.stderr.slice(-3_000)}`).toBeNull()
    for (const w of workers) w.signal('SIGTERM')
    for (const w of workers) expect(await w.exited).toEqual({ code: 0, signal: null })
    process.stderr.write(
      `chaos-postgres: ${EVENTS} events, Postgres down ${DOWN_MS} ms twice; ${behind.join(' and ')} events not yet checkpointed at the crashes; every partition checkpointing again ${recovered.join(' and ')} ms after the restart; partition loops restarted: ${restarts.map((r) => r.n).join(' + ')}\n`,
    )
    expect(recovered).toHaveLength(2)
    // Under load: each crash came with a backlog still to work through.
    for (const b of behind) expect(b).toBeGreaterThan(1_000)

    await runs().expectSameAs(crashy, calm)
  }, 300_000)
})
