import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { createInterface } from 'node:readline'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { appendEvents } from '../../src/ingest/append-events.ts'
import { TOPICS } from '../../src/log/event-log.ts'
import { PgInstance } from '../support/pg-instance.ts'
import { CrashRuns, holders, requireKafka, RULES, sleep, takenOver, until, workload, type CrashRun } from './helpers.ts'

const PARTITIONS = 8
const EVENTS = 40_000
/** The host's end of the veth and the namespace's end; the broker and Postgres listen on the host's. */
const HOST_IP = '10.231.0.1'
const INNER_IP = '10.231.0.2'
const KAFKA_PORT = 19492
const PG_PORT = 55434
/** The workers' session (src/worker/timing.ts default): the cut lasts well past it. */
const SESSION_MS = 1_500
const CUT_MS = 4_000
/** Batches of 1,000 events appended at once before the cut. */
const BACKLOG = 12

// Interface names are at most 15 bytes; the pid keeps two runs on one machine apart.
const NS = `tsnet${process.pid}`
const HOST_VETH = `tsh${process.pid}`
const INNER_VETH = `tsi${process.pid}`

/** Runs `ip`; a failure's message is what ip said on stderr. */
function ip(...args: string[]): string {
  try {
    return execFileSync('ip', args, { stdio: 'pipe', timeout: 30_000 }).toString()
  } catch (err) {
    const e = err as Error & { stderr?: Buffer }
    throw new Error(`ip ${args.join(' ')}: ${e.stderr?.toString().trim() || e.message}`, { cause: err })
  }
}
const inNs = (...args: string[]): string => ip('netns', 'exec', NS, ...args)

/*
 * Chaos: a worker's network to the broker and to Postgres cut for longer than its session, in the
 * middle of a backlog. The test makes a network namespace with a veth pair to the host; its own
 * broker (scripts/kafka/start.sh, KAFKA_HOST) and its own Postgres (test/support/pg-instance.ts)
 * listen on the host's end, one worker runs inside the namespace (`ip netns exec`) and one outside.
 * The inner end of the veth goes down for CUT_MS: the outside worker must take every partition over
 * once the session has expired, and the inside one, cut off with outputs and checkpoints in flight,
 * must see its membership lost, be fenced (its writer's transactions and checkpoints refused once
 * the new owner opened the partitions' writers), and rejoin once the link is back. The end equals
 * one uninterrupted worker's: streams, users and checkpoints.
 */
describe('tagstream worker: the network between a worker and the broker cut under load', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tagstream-chaos-net-'))
  const env = { ...process.env, TAGSTREAM_KAFKA_DIR: dir, KAFKA_HOST: HOST_IP, KAFKA_PORT: String(KAFKA_PORT), KAFKA_CONTROLLER_PORT: String(KAFKA_PORT + 1) }
  const script = (name: string) => execFileSync('bash', [resolve(`scripts/kafka/${name}.sh`)], { env, stdio: 'pipe', timeout: 180_000 }).toString()
  const broker = `${HOST_IP}:${KAFKA_PORT}`
  let pgi: PgInstance | null = null
  let crash: CrashRuns | null = null
  let brokerStarted = false
  let nsMade = false
  const runs = () => crash!

  beforeAll(async () => {
    requireKafka()
    // Not skipped when it cannot run: a chaos test that silently does nothing proves nothing.
    const needs = "this test needs `ip netns` (iproute2) as root to cut a worker's network"
    if (process.getuid?.() !== 0) throw new Error(`${needs}; running as uid ${process.getuid?.()}`)
    try {
      ip('netns', 'list')
    } catch (err) {
      throw new Error(`${needs}; \`ip netns list\` failed: ${(err as Error).message}`, { cause: err })
    }
    const taken = ip('-o', 'addr', 'show', 'to', `${HOST_IP}/30`).trim()
    if (taken !== '') throw new Error(`${HOST_IP}/30 is already on an interface (a leftover of an earlier run? remove it with ip link del):\n${taken}`)
    // The namespace and the veth pair: host end HOST_IP, inner end INNER_IP, a /30 between them.
    ip('netns', 'add', NS)
    nsMade = true
    ip('link', 'add', HOST_VETH, 'type', 'veth', 'peer', 'name', INNER_VETH)
    ip('link', 'set', INNER_VETH, 'netns', NS)
    ip('addr', 'add', `${HOST_IP}/30`, 'dev', HOST_VETH)
    ip('link', 'set', HOST_VETH, 'up')
    inNs('ip', 'addr', 'add', `${INNER_IP}/30`, 'dev', INNER_VETH)
    inNs('ip', 'link', 'set', INNER_VETH, 'up')
    inNs('ip', 'link', 'set', 'lo', 'up')

    // The jars of the shared broker (fetched by its start), not a second download.
    const lib = resolve(process.env.TAGSTREAM_KAFKA_DIR ?? '.kafka', 'lib')
    if (!existsSync(join(lib, '.complete'))) throw new Error(`no Kafka jars at ${lib}: run scripts/kafka/start.sh once`)
    symlinkSync(lib, join(dir, 'lib'))
    brokerStarted = true
    script('start')
    pgi = await PgInstance.create({ host: HOST_IP, port: PG_PORT })
    crash = new CrashRuns('chaosnet', PARTITIONS, undefined, broker, pgi.url)
    writeFileSync(crash.segments, RULES)
  }, 240_000)

  afterAll(async () => {
    // Every step runs whatever failed before it; the first failure is reported at the end.
    const failures: unknown[] = []
    const step = async (work: () => unknown) => {
      try {
        await work()
      } catch (err) {
        failures.push(err)
      }
    }
    // The link back first (if the set-up got that far): a worker stuck on it would otherwise hold its connections open.
    try {
      if (nsMade) inNs('ip', 'link', 'set', INNER_VETH, 'up')
    } catch {
      // The veth never reached the namespace: nothing to bring up.
    }
    await step(() => crash?.cleanup())
    if (brokerStarted) await step(() => script('stop'))
    await step(() => pgi?.remove())
    // Deleting one end of the veth deletes the pair, at once (a namespace's devices go in the
    // background after `ip netns del`, so the host's end is not left to that).
    await step(() => (existsSync(`/sys/class/net/${HOST_VETH}`) ? ip('link', 'del', HOST_VETH) : undefined))
    if (nsMade) await step(() => ip('netns', 'del', NS))
    rmSync(dir, { recursive: true, force: true })
    if (nsMade && existsSync(`/sys/class/net/${HOST_VETH}`)) failures.push(new Error(`${HOST_VETH} left behind`))
    if (failures.length > 0) throw failures[0]
  }, 120_000)

  /** Partitions `worker` holds now, by the group's assignment. */
  const heldBy = async (run: CrashRun, worker: string) => (await holders(run.prefix, run.schema.schema, broker, pgi!.url)).filter((h) => h.owner === worker).map((h) => h.partition)

  it("moves the cut worker's partitions, fences it, takes it back, and loses or doubles nothing", async () => {
    const events = workload(EVENTS)
    const calm = await runs().calm(events, 120_000)

    const crashy = await runs().open('crashy')
    const { logs } = runs()
    const feed = (from: number, batches: number) => appendEvents(crashy.log, events.slice(from * 1_000, (from + batches) * 1_000), PARTITIONS)
    const outside = runs().start(crashy, 'out')
    const inside = runs().start(crashy, 'in', ['ip', 'netns', 'exec', NS])
    // Its lines about the cut, from the start (a worker's stderr kept in WorkerProcess is only its tail).
    const insideSaw: string[] = []
    createInterface({ input: inside.proc.stderr! }).on('line', (line) => {
      if (/membership lost|Fenced|partition stopped|partition restarted/.test(line)) insideSaw.push(line)
    })
    await Promise.all([outside.joined, inside.joined])
    await until(`${inside.id} holding partitions`, async () => ((await heldBy(crashy, inside.id)).length > 0 ? true : undefined), 60_000, logs)

    let batch = 0
    for (; batch < 8; batch++) {
      await feed(batch, 1)
      await sleep(40)
    }
    // A backlog, and the cut while both workers are in the middle of it: outputs and checkpoints in
    // flight. They work through a few thousand events in 100 ms here, so the cut follows the appends closely.
    await feed(batch, BACKLOG)
    batch += BACKLOG
    const before = await heldBy(crashy, inside.id)
    let behind = 0
    for (const p of before) behind += (await crashy.log.offsets(TOPICS.events, p)).end - ((await crashy.store.loadCheckpoint('engine', p))?.nextOffset ?? 0)
    const cut = performance.now()
    inNs('ip', 'link', 'set', INNER_VETH, 'down')
    expect(before.length, `${inside.id} holds partitions before the cut`).toBeGreaterThan(0)
    // Under load: the inside worker's partitions had work left that no checkpoint covered yet.
    expect(behind).toBeGreaterThan(1_000)
    // Appends go on meanwhile: the outside worker has the whole log to take over.
    await feed(batch, 4)
    batch += 4
    await takenOver(crashy.prefix, crashy.schema.schema, inside.id, PARTITIONS, logs, broker, pgi!.url)
    const takeover = Math.round(performance.now() - cut)
    await sleep(CUT_MS - (performance.now() - cut))
    inNs('ip', 'link', 'set', INNER_VETH, 'up')
    const restored = performance.now()
    const cutFor = Math.round(restored - cut)
    await until(`${inside.id} holding partitions again after the link came back`, async () => ((await heldBy(crashy, inside.id)).length > 0 ? true : undefined), 60_000, logs)
    const rejoin = Math.round(performance.now() - restored)

    for (; batch < EVENTS / 1_000; batch++) {
      await feed(batch, 1)
      await sleep(40)
    }
    await runs().done(crashy, 120_000)
    for (const w of [outside, inside]) expect(w.proc.exitCode, `${w.id} exited early:\n${w.stderr.slice(-3_000)}`).toBeNull()
    for (const w of [outside, inside]) w.signal('SIGTERM')
    for (const w of [outside, inside]) expect(await w.exited).toEqual({ code: 0, signal: null })
    process.stderr.write(
      `chaos-network: ${EVENTS} events; link cut ${cutFor} ms (session ${SESSION_MS} ms) with ${before.length} partitions inside, ${behind} of their events not yet checkpointed; outside worker held all ${PARTITIONS} ${takeover} ms after the cut; the inside worker held partitions again ${rejoin} ms after the link came back\n`,
    )

    await runs().expectSameAs(crashy, calm)
    // The inside worker learnt it was out of the group, and let its partitions go.
    const fenced = insideSaw.filter((l) => /WriterFencedError|FencedError/.test(l)).length
    process.stderr.write(`chaos-network: the inside worker logged: membership lost ×${insideSaw.filter((l) => l.includes('membership lost')).length}, fenced ×${fenced}\n`)
    expect(insideSaw.join('\n')).toMatch(/consumer group membership lost/)
    // …and that the broker had fenced what it still held: its writers' transactions or checkpoints refused.
    expect(fenced, `${inside.id} fenced:\n${insideSaw.join('\n').slice(-3_000)}`).toBeGreaterThan(0)
    expect(takeover, 'takeover after the cut (ms)').toBeLessThan(SESSION_MS + 3_000)
  }, 300_000)
})
