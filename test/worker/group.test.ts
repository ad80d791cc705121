import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { appendEvents } from '../../src/ingest/append-events.ts'
import { TOPICS, type EventLog } from '../../src/log/event-log.ts'
import { openEventLog } from '../../src/log/open-log.ts'
import { PostgresStateStore } from '../../src/state/postgres/state-store.ts'
import { sql, testSchema } from '../state/postgres-helpers.ts'
import { caughtUp, dropTopics, freshPrefix, holders, kafkaUrl, LEASES, owners, readAll, requireKafka, RULES, until, workerArgs, WorkerProcess, workload } from './helpers.ts'

const PARTITIONS = 8

describe('tagstream worker: a group of processes sharing the partitions', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tagstream-worker-group-'))
  const prefix = freshPrefix('group')
  const schema = testSchema('group')
  const segments = join(dir, 'rules.yaml')
  const procs: WorkerProcess[] = []
  let log: EventLog
  let store: PostgresStateStore

  beforeAll(async () => {
    requireKafka()
    writeFileSync(segments, RULES)
    log = (await openEventLog(kafkaUrl(prefix), { partitions: PARTITIONS })).log
    store = await PostgresStateStore.open(schema.url)
  })
  afterAll(async () => {
    for (const p of procs) p.signal('SIGKILL')
    await Promise.all(procs.map((p) => p.exited))
    await log?.close()
    await store?.close()
    await schema.drop()
    await dropTopics(prefix)
    rmSync(dir, { recursive: true, force: true })
  })

  const start = (id: string) => {
    const w = new WorkerProcess(id, workerArgs(prefix, schema.url, segments))
    procs.push(w)
    return w
  }
  const logs = () => procs.map((p) => `--- ${p.id}\n${p.stderr.slice(-3_000)}`).join('\n')
  /** Waits until the partitions are spread over exactly `members`, balanced (8 over 3: 3, 3, 2); returns partitions per member. */
  const balanced = (members: string[]) =>
    until(
      `partitions balanced over ${members.join(', ')}`,
      async () => {
        const rows = await holders(prefix, schema.schema)
        const by = owners(rows)
        const counts = Object.values(by).map((ps) => ps.length)
        const fair = counts.every((n) => n === Math.floor(PARTITIONS / members.length) || n === Math.ceil(PARTITIONS / members.length))
        return rows.length === PARTITIONS && JSON.stringify(Object.keys(by).sort()) === JSON.stringify(members) && fair ? by : undefined
      },
      60_000,
      logs,
    )
  /** The partitions that changed owner from one assignment to the next. */
  const moved = (from: Record<string, number[]>, to: Record<string, number[]>) =>
    Object.entries(to).flatMap(([owner, ps]) => ps.filter((p) => from[owner] === undefined || !from[owner].includes(p)).map((p) => ({ p, owner })))
  const processed = () => until('every partition checkpointed at the end of the log', async () => ((await caughtUp(log, store, PARTITIONS)) ? true : undefined), 60_000, logs)
  const events = workload(12_000, 300, 7)
  const feed = (from: number, to: number) => appendEvents(log, events.slice(from, to), PARTITIONS)

  it('splits the partitions, moves them when a worker joins, takes them over when one leaves', async () => {
    const a = start('a')
    const b = start('b')
    await Promise.all([a.joined, b.joined])
    const first = await balanced(['a', 'b'])
    await feed(0, 4_000)
    await processed()

    const c = start('c')
    await c.joined
    const joined = await balanced(['a', 'b', 'c'])
    // Kafka's cooperative assignment is sticky: only what c now runs moved, nothing between a and b.
    // (Leases follow p mod n over the sorted ids, moving more.)
    if (!LEASES) expect(moved(first, joined).every((m) => m.owner === 'c')).toBe(true)
    await feed(4_000, 8_000)
    await processed()

    const left = Date.now()
    b.signal('SIGTERM')
    expect(await b.exited).toEqual({ code: 0, signal: null })
    // b handed its partitions over as it left: the others take them without waiting for b's session (or lease) to expire.
    const after = await balanced(['a', 'c'])
    const takeoverMs = Date.now() - left
    if (!LEASES) expect(moved(joined, after).every((m) => joined.b!.includes(m.p))).toBe(true)
    await feed(8_000, 12_000)
    await processed()

    for (const w of [a, c]) w.signal('SIGTERM')
    expect(await a.exited).toEqual({ code: 0, signal: null })
    expect(await c.exited).toEqual({ code: 0, signal: null })
    expect(await holders(prefix, schema.schema)).toEqual([])
    if (LEASES) expect(await sql(`SELECT id FROM ${schema.schema}.workers`)).toEqual([])

    // No change lost or repeated across the moves: each user's versions run 1, 2, 3… in its partition.
    const changes = (await readAll(log, TOPICS.segmentChanges, PARTITIONS)).flat().map((s) => JSON.parse(s) as { user_id: string; version: number })
    expect(changes.length).toBeGreaterThan(20)
    const versions = new Map<string, number>()
    for (const ch of changes) {
      expect(ch.version).toBe((versions.get(ch.user_id) ?? 0) + 1)
      versions.set(ch.user_id, ch.version)
    }
    process.stderr.write(`worker group: takeover after SIGTERM ${takeoverMs} ms\n`)
  }, 240_000)

  it('refuses a state store that is not Postgres, naming the flag', async () => {
    const w = new WorkerProcess('x', ['--log', kafkaUrl(prefix), '--state', join(dir, 'state')])
    procs.push(w)
    expect((await w.exited).code).toBe(2)
    expect(w.stderr).toContain('tagstream worker needs --state postgres://host:port/db?schema=name (or TAGSTREAM_STATE)')
  })
})
