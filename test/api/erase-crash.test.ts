/**
 * An erase survives a crash (docs/privacy.md, "Crashes"): `tagstream serve` with its warehouse, in
 * its own process, is SIGKILLed at points of an erase (right after answering the DELETE, and a
 * moment later, mid-step), started again on the same data, and the job finishes: the person is in
 * no profile, checkpoint or warehouse file, everyone else's data is exactly what was sent, and new
 * events go on. On the embedded log and state, and on a real Kafka broker with Postgres.
 */
import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Admin } from '@platformatic/kafka'
import { afterAll, describe, expect, inject, it } from 'vitest'
import { startServeChild, type ServeChild } from '../support/serve-child.ts'
import { until } from '../support/until.ts'
import { testSchema } from '../state/postgres-helpers.ts'

const BROKER = process.env.TAGSTREAM_TEST_KAFKA ?? `127.0.0.1:${process.env.KAFKA_PORT ?? 9092}`
const KEY = 'erase-crash-admin'
/** Recent: the warehouse keeps 3 days by default. */
const T0 = Date.now() - 3 * 3_600_000
const dirs: string[] = []
const prefixes: string[] = []
const schemas: Array<ReturnType<typeof testSchema>> = []
afterAll(async () => {
  dirs.forEach((d) => rmSync(d, { recursive: true, force: true }))
  for (const s of schemas) await s.drop()
  if (prefixes.length === 0) return
  const admin = new Admin({ clientId: 'tagstream-test-cleanup', bootstrapBrokers: [BROKER] })
  const mine = (await admin.listTopics()).filter((t) => prefixes.some((p) => t.startsWith(p)))
  if (mine.length > 0) await admin.deleteTopics({ topics: mine })
  await admin.close()
})

const headers = { authorization: `Bearer ${KEY}` }
const json = { ...headers, 'content-type': 'application/json' }

async function post(url: string, events: unknown[]): Promise<void> {
  const res = await fetch(`${url}/v1/events`, { method: 'POST', headers: json, body: JSON.stringify(events) })
  expect(res.status).toBe(200)
}

async function sql(url: string, query: string): Promise<unknown[][]> {
  const res = await fetch(`${url}/v1/query`, { method: 'POST', headers: json, body: JSON.stringify({ sql: query }) })
  return res.status === 200 ? ((await res.json()) as { rows: unknown[][] }).rows : []
}

/** Per user, the event count the warehouse holds. */
async function warehouseCounts(url: string): Promise<Record<string, number>> {
  const rows = await sql(url, 'SELECT user_id, count(*) FROM events GROUP BY user_id ORDER BY user_id')
  return Object.fromEntries(rows.map((r) => [String(r[0]), Number(r[1])]))
}

/** 20 users × 30 spins, over two hours, in 3 requests (so the warehouse has several files). */
function events(batch: number): unknown[] {
  const out: unknown[] = []
  for (let u = 0; u < 20; u++) for (let i = 0; i < 10; i++) out.push({ event: 'spin', user_id: `u${u}`, ts: T0 + (batch * 10 + i) * 240_000 + u, event_id: `e-${batch}-${u}-${i}` })
  return out
}

async function eraseThroughCrashes(globalArgs: string[], dir: string, killAfterMs: number, serveArgs: string[] = []): Promise<void> {
  const segments = join(dir, 'segments.yaml')
  writeFileSync(segments, 'segments:\n  spinner:\n    when: count(spin, 1h) >= 5\n')
  const args = [...globalArgs, '--data', dir, '--partitions', '4']
  const start = (): Promise<ServeChild> => startServeChild(args, KEY, ['--segments', segments, ...serveArgs], { warehouse: true })
  let serve = await start()
  try {
    for (let b = 0; b < 3; b++) await post(serve.url, events(b))
    const expected: Record<string, number> = Object.fromEntries(Array.from({ length: 20 }, (_, u) => [`u${u}`, 30]))
    await until('the warehouse holds every event', async () => JSON.stringify(await warehouseCounts(serve.url)) === JSON.stringify(sortKeys(expected)), 30_000, 100)
    await until('u7 in spinner', async () => (await (await fetch(`${serve.url}/v1/profiles/u7`, { headers })).text()).includes('spinner'), 30_000, 100)

    const res = await fetch(`${serve.url}/v1/profiles/u7`, { method: 'DELETE', headers })
    expect(res.status).toBe(202)
    const { status_url } = (await res.json()) as { status_url: string }
    if (killAfterMs > 0) await new Promise((r) => setTimeout(r, killAfterMs))
    await serve.kill()

    serve = await start()
    const job = await until(
      'the erase job done after the restart',
      async () => {
        const j = (await (await fetch(`${serve.url}${status_url}`, { headers })).json()) as { status: string; steps: Record<string, boolean> }
        return j.status === 'done' ? j : null
      },
      60_000,
      100,
    )
    expect(job.steps).toEqual({ log: true, engine: true, warehouse: true })
    expect((await fetch(`${serve.url}/v1/profiles/u7`, { headers })).status).toBe(404)
    delete expected.u7
    expect(await warehouseCounts(serve.url)).toEqual(sortKeys(expected))
    expect(await sql(serve.url, "SELECT count(*) FROM segment_changes WHERE user_id = 'u7' AND change = 'entered'")).toEqual([[0]])
    // The others go on; u7 comes back as a new profile of one event.
    await post(serve.url, [
      { event: 'spin', user_id: 'u7', ts: T0 + 150 * 60_000, event_id: 'after-7' },
      { event: 'spin', user_id: 'u3', ts: T0 + 150 * 60_000, event_id: 'after-3' },
    ])
    await until('u7 new profile', async () => (await fetch(`${serve.url}/v1/profiles/u7`, { headers })).status === 200, 30_000, 100)
    const u7 = (await (await fetch(`${serve.url}/v1/profiles/u7`, { headers })).json()) as { counts: Record<string, number> }
    expect(u7.counts).toEqual({ spin: 1 })
    // u3 may be in another partition, applied after u7's (each partition has its own engine loop):
    // wait for its new event too, or the read below can come before it.
    const profile3 = async () => (await (await fetch(`${serve.url}/v1/profiles/u3`, { headers })).json()) as { counts: Record<string, number> }
    await until('u3 has its new spin', async () => (await profile3()).counts.spin !== 30, 30_000, 100)
    const u3 = await profile3()
    expect(u3.counts).toEqual({ spin: 31 })
  } finally {
    await serve.kill()
  }
}

function sortKeys(o: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1)))
}

describe('an erase through a SIGKILL (tagstream serve with its warehouse, restarted)', () => {
  it.each([0, 150])(
    'on the embedded log and state, killed %i ms after the DELETE',
    async (ms) => {
      const dir = mkdtempSync(join(tmpdir(), 'tagstream-erase-crash-'))
      dirs.push(dir)
      await eraseThroughCrashes([], dir, ms)
    },
    150_000,
  )

  it.each([0, 150])(
    'on Kafka and Postgres, killed %i ms after the DELETE',
    async (ms) => {
      const startError = inject('kafkaStartError')
      if (startError) throw new Error(startError)
      const dir = mkdtempSync(join(tmpdir(), 'tagstream-erase-crash-kafka-'))
      dirs.push(dir)
      const prefix = `test-erase-${randomUUID().slice(0, 8)}-`
      prefixes.push(prefix)
      const schema = testSchema('erase_crash')
      schemas.push(schema)
      await eraseThroughCrashes(['--log', `kafka://${BROKER}?prefix=${prefix}&clientId=tagstream-test`], dir, ms, ['--state', schema.url])
    },
    150_000,
  )
})
