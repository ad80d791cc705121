import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { appendEvents } from '../../src/ingest/append-events.ts'
import { CrashRuns, requireKafka, RULES, sleep, workload } from './helpers.ts'

const PARTITIONS = 8
const PORT = 19392

/*
 * Chaos: the Kafka broker itself dies (SIGKILL) in the middle of a backlog and comes back on the same
 * data, twice, while two workers run with their outputs in transactions. The broker is this test's
 * own (its own port and directory, started and restarted by scripts/kafka/start.sh with
 * KAFKA_KEEP_DATA=1), so the other tests' broker is never touched. Every acknowledged event must be
 * processed once: streams, users and checkpoints equal one uninterrupted worker's over the same
 * events on the same broker.
 */
describe('tagstream worker: the broker killed and restarted under load', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tagstream-chaos-kafka-'))
  const env = { ...process.env, TAGSTREAM_KAFKA_DIR: dir, KAFKA_PORT: String(PORT), KAFKA_CONTROLLER_PORT: String(PORT + 1), KAFKA_KEEP_DATA: '1' }
  const script = (name: string) => execFileSync('bash', [resolve(`scripts/kafka/${name}.sh`)], { env, stdio: 'pipe', timeout: 180_000 }).toString()
  const kill = () => execFileSync('kill', ['-KILL', readFileSync(join(dir, 'broker.pid'), 'utf8').trim()])
  const crash = new CrashRuns('chaosbroker', PARTITIONS, undefined, `127.0.0.1:${PORT}`)
  const done = (run: Awaited<ReturnType<typeof crash.open>>) => crash.done(run, 120_000)

  beforeAll(() => {
    requireKafka()
    writeFileSync(crash.segments, RULES)
    // The jars of the shared broker (fetched by its start), not a second download.
    const lib = resolve(process.env.TAGSTREAM_KAFKA_DIR ?? '.kafka', 'lib')
    if (!existsSync(join(lib, '.complete'))) throw new Error(`no Kafka jars at ${lib}: run scripts/kafka/start.sh once`)
    symlinkSync(lib, join(dir, 'lib'))
    script('start')
  }, 200_000)
  afterAll(async () => {
    await crash.cleanup()
    script('stop')
    rmSync(dir, { recursive: true, force: true })
  }, 120_000)

  it('loses no acknowledged event and lands no output twice', async () => {
    const events = workload(48_000)
    const calm = await crash.calm(events, 120_000)

    const crashy = await crash.open('crashy')
    const feed = (from: number, batches: number) => appendEvents(crashy.log, events.slice(from * 1_000, (from + batches) * 1_000), PARTITIONS)
    const workers = [crash.start(crashy, 'b1'), crash.start(crashy, 'b2')]
    await Promise.all(workers.map((w) => w.joined))
    let restarts = 0
    for (let batch = 0; batch < 48;) {
      if (batch === 12 || batch === 30) {
        // A backlog, and the broker gone while the workers are in the middle of it.
        await feed(batch, 6)
        await sleep(200)
        kill()
        await sleep(1_000)
        script('start')
        restarts++
        batch += 6
        continue
      }
      await feed(batch, 1)
      await sleep(40)
      batch++
    }
    await done(crashy)
    for (const w of workers) w.signal('SIGTERM')
    for (const w of workers) expect(await w.exited).toEqual({ code: 0, signal: null })
    expect(restarts).toBe(2)

    await crash.expectSameAs(crashy, calm)
  }, 600_000)
})
