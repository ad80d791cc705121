import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { appendEvents } from '../../src/ingest/append-events.ts'
import { TOPICS, type EventLog } from '../../src/log/event-log.ts'
import { openEventLog } from '../../src/log/open-log.ts'
import { PostgresStateStore } from '../../src/state/postgres/state-store.ts'
import { sql, testSchema } from '../state/postgres-helpers.ts'
import { caughtUp, dropTopics, freshPrefix, kafkaUrl, leases, owners, readAll, requireKafka, RULES, until, workerArgs, WorkerProcess, workload } from './helpers.ts'

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
  const assignment = (want: Record<string, number[]>) =>
    until(
      `leases ${JSON.stringify(want)}`,
      async () => {
        const rows = await leases(schema.schema)
        return rows.length === PARTITIONS && JSON.stringify(owners(rows)) === JSON.stringify(want) ? rows : undefined
      },
      60_000,
      logs,
    )
  const processed = () => until('every partition checkpointed at the end of the log', async () => ((await caughtUp(log, store, PARTITIONS)) ? true : undefined), 60_000, logs)
  const events = workload(12_000, 300, 7)
  const feed = (from: number, to: number) => appendEvents(log, events.slice(from, to), PARTITIONS)

  it('splits the partitions, moves them when a worker joins, takes them over when one leaves', async () => {
    const a = start('a')
    const b = start('b')
    await Promise.all([a.joined, b.joined])
    const first = await assignment({ a: [0, 2, 4, 6], b: [1, 3, 5, 7] })
    await feed(0, 4_000)
    await processed()

    const c = start('c')
    await c.joined
    const joined = await assignment({ a: [0, 3, 6], b: [1, 4, 7], c: [2, 5] })
    // Moved partitions were released and acquired again (epoch + 1); the others kept their lease.
    for (const p of [2, 3, 4, 5]) expect(joined[p]!.epoch).toBe(first[p]!.epoch + 1)
    for (const p of [0, 1, 6, 7]) expect(joined[p]!.epoch).toBe(first[p]!.epoch)
    await feed(4_000, 8_000)
    await processed()

    const left = Date.now()
    b.signal('SIGTERM')
    expect(await b.exited).toEqual({ code: 0, signal: null })
    // b released its leases as it left: the others take them at their next heartbeat, without waiting 1.5 s for expiry.
    await assignment({ a: [0, 2, 4, 6], c: [1, 3, 5, 7] })
    const takeoverMs = Date.now() - left
    await feed(8_000, 12_000)
    await processed()

    for (const w of [a, c]) w.signal('SIGTERM')
    expect(await a.exited).toEqual({ code: 0, signal: null })
    expect(await c.exited).toEqual({ code: 0, signal: null })
    expect((await leases(schema.schema)).every((l) => l.owner === null)).toBe(true)
    expect(await sql(`SELECT id FROM ${schema.schema}.workers`)).toEqual([])

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
