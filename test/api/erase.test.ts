/**
 * Erasing a person over HTTP on `serve` with its warehouse (docs/privacy.md): DELETE
 * /v1/profiles/:id answers with a job; once it is done the person (and the anonymous id linked to
 * it) is gone from the live profiles, the checkpoints, the warehouse's event and stream files and
 * the dead letters shown, the change stream holds their exits, and the audit trail says who did it.
 * Another tenant's user of the same id and the tenant's other users are untouched; an event after
 * the erase starts a new profile.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TOPICS } from '../../src/log/event-log.ts'
import { readRange } from '../../src/log/read-range.ts'
import { decodeEngineRecord } from '../../src/engine/engine-record.ts'
import { partitionOfUser } from '../../src/events/partition.ts'
import { MAX_UNFINISHED_ERASURES, newErasureJob } from '../../src/api/privacy/request-erase.ts'
import { auth, sqlWhen, startTestServer, type TestServer } from './harness.ts'
import { until } from '../support/until.ts'

/** Recent: profiles read windows as of now (the clock follows the wall clock). */
const T0 = Date.now() - 10 * 60_000
const MIN = 60_000

let s: TestServer
beforeAll(async () => {
  s = await startTestServer({}, 'segments:\n  spinner:\n    when: count(spin, 1h) >= 2\n')
})
afterAll(async () => {
  await s.close()
})

const post = (key: string, events: unknown[]) => fetch(`${s.url}/v1/events`, { method: 'POST', headers: { ...auth(key), 'content-type': 'application/json' }, body: JSON.stringify(events) })
const get = (key: string, path: string) => fetch(`${s.url}${path}`, { headers: auth(key) })
const del = (key: string, path: string) => fetch(`${s.url}${path}`, { method: 'DELETE', headers: auth(key) })

interface JobView {
  id: string
  tenant: string
  ids: string[]
  status: string
  steps: { log: boolean; engine: boolean; warehouse: boolean }
  requested_by: string
  finished_at: string | null
  tombstone: boolean
}

async function count(sql: string, want: number): Promise<number> {
  return Number((await sqlWhen(s, sql, (rows) => Number(rows[0]?.[0]) === want))[0]![0])
}

describe('DELETE /v1/profiles/:id', () => {
  it('erases the person and its linked id everywhere, and nothing else', async () => {
    const acme = s.keys.acmeAdmin
    // u1: anonymous first (anon-9), then linked; in the spinner segment. u2 and default's u1 stay.
    expect((await post(acme, [{ event: 'page', anonymous_id: 'anon-9', ts: T0 - 3 * MIN, event_id: 'a-0' }])).status).toBe(200)
    await until('anon-9 profile', async () => (await get(acme, '/v1/profiles/anon-9')).status === 200)
    const acmeEvents = [
      { event: 'spin', user_id: 'u1', anonymous_id: 'anon-9', ts: T0 - 2 * MIN, event_id: 'a-1' },
      { event: 'spin', user_id: 'u1', ts: T0 - MIN, event_id: 'a-2' },
      { event: 'spin', user_id: 'u2', ts: T0 - MIN, event_id: 'a-3' },
      { event: 'spin', user_id: 'u2', ts: T0, event_id: 'a-4' },
    ]
    expect((await post(acme, acmeEvents)).status).toBe(200)
    expect((await post(s.keys.admin, [{ event: 'spin', user_id: 'u1', ts: T0, event_id: 'd-1' }])).status).toBe(200)
    // A dead letter naming u1 (ts is not a time).
    expect(((await (await post(acme, [{ event: 'spin', user_id: 'u1', ts: 'yesterday' }])).json()) as { rejected: unknown[] }).rejected).toHaveLength(1)
    await until('u1 linked and in spinner', async () => {
      const p = (await (await get(acme, '/v1/profiles/u1')).json()) as { ids?: string[]; segments?: Array<{ segment: string }> }
      return p.ids?.includes('anon-9') === true && p.segments?.some((x) => x.segment === 'spinner') === true
    })
    await count("SELECT count(*) FROM events WHERE tenant = 'acme'", 5)
    await count("SELECT count(*) FROM segment_changes WHERE tenant = 'acme' AND user_id = 'u1'", 1)
    const letters = async () => ((await (await get(acme, '/v1/dead-letters')).json()) as { dead_letters: unknown[] }).dead_letters.length
    expect(await letters()).toBe(1)

    // Unknown people and other keys get clear answers.
    expect((await del(acme, '/v1/profiles/nobody')).status).toBe(404)
    expect((await del(s.keys.acme, '/v1/profiles/u1')).status).toBe(403)

    const res = await del(acme, '/v1/profiles/u1')
    expect(res.status).toBe(202)
    const body = (await res.json()) as { job: JobView; existing: boolean; status_url: string }
    expect(body.existing).toBe(false)
    expect(body.job.ids.sort()).toEqual(['anon-9', 'u1'])
    expect(body.job.steps.log).toBe(true)
    let job = body.job
    await until(
      'the job done',
      async () => {
        job = (await (await get(acme, body.status_url)).json()) as JobView
        return job.status === 'done'
      },
      30_000,
    )
    expect(job).toMatchObject({ tenant: 'acme', steps: { log: true, engine: true, warehouse: true }, tombstone: true })
    expect(job.requested_by).toMatch(/^key-[0-9a-f]{12}$/)
    // Another tenant's admin sees no such job.
    expect((await get(s.keys.admin, body.status_url)).status).toBe(404)

    // Live state and checkpoints.
    expect((await get(acme, '/v1/profiles/u1')).status).toBe(404)
    expect((await get(acme, '/v1/profiles/anon-9')).status).toBe(404)
    expect((await get(acme, '/v1/profiles/u2')).status).toBe(200)
    expect((await get(s.keys.admin, '/v1/profiles/u1')).status).toBe(200)
    const stored: string[] = []
    for (let p = 0; p < s.ctx.partitions; p++) for await (const u of s.ctx.state.loadUsers('engine', p)) stored.push(u.key)
    expect(stored.filter((k) => k.startsWith('acme:u1') || k.startsWith('acme:anon-9'))).toEqual([])
    expect(stored).toContain('acme:u2')
    expect(stored).toContain('default:u1')

    // The warehouse: no row of theirs in any file, the others' rows all there.
    expect(await count("SELECT count(*) FROM events WHERE tenant = 'acme' AND (user_id IN ('u1', 'anon-9') OR anonymous_id IN ('u1', 'anon-9'))", 0)).toBe(0)
    expect(await count("SELECT count(*) FROM events WHERE tenant = 'acme' AND user_id = 'u2'", 2)).toBe(2)
    expect(await count("SELECT count(*) FROM events WHERE tenant = 'default' AND user_id = 'u1'", 1)).toBe(1)
    expect(await count("SELECT count(*) FROM segment_changes WHERE tenant = 'acme' AND user_id IN ('u1', 'anon-9') AND change = 'entered'", 0)).toBe(0)
    expect(await count("SELECT count(*) FROM identities WHERE tenant = 'acme' AND (user_id = 'u1' OR id = 'anon-9')", 0)).toBe(0)

    // The change stream holds the exit, marked.
    const exits: Array<{ user_id: string; change: string; reason?: string }> = []
    for (let p = 0; p < s.ctx.partitions; p++) {
      const { end } = await s.ctx.log.offsets(TOPICS.segmentChanges, p)
      for (const r of await readRange(s.ctx.log, TOPICS.segmentChanges, p, 0, end)) exits.push(JSON.parse(Buffer.from(r.value).toString()) as (typeof exits)[number])
    }
    expect(exits.filter((c) => c.user_id === 'u1' && c.reason === 'erased').map((c) => c.change)).toEqual(['exited'])

    // Dead letters naming u1 are hidden; the audit trail has the erase.
    expect(await letters()).toBe(0)
    const audit = (await (await get(acme, '/v1/audit')).json()) as { entries: Array<{ action: string; subject: string; job: string | null; by: string }> }
    expect(audit.entries[0]).toMatchObject({ action: 'erase', subject: 'u1', job: job.id, by: job.requested_by })
    expect(((await (await get(acme, '/v1/erasures')).json()) as { erasures: JobView[] }).erasures.map((j) => j.id)).toEqual([job.id])

    // /metrics counts the job while its tombstone holds.
    const metrics = await until('the gauge to read the job done', async () => {
      const text = await (await fetch(`${s.url}/metrics`, { headers: auth(s.keys.admin) })).text()
      return /tagstream_erasure_jobs\{status="tombstone"\} [1-9]/.test(text) ? text : null
    })
    expect(metrics).toMatch(/tagstream_erasure_jobs\{status="erasing"\} 0/)

    // An export finds nothing held of them.
    expect((await get(acme, '/v1/profiles/u1/export')).status).toBe(404)
    expect((await get(acme, '/v1/profiles/anon-9/export')).status).toBe(404)

    // Log order decides: an event after the erase is a new profile.
    expect((await post(acme, [{ event: 'login', user_id: 'u1', ts: T0 + MIN, event_id: 'a-9' }])).status).toBe(200)
    await until('the new u1', async () => (await get(acme, '/v1/profiles/u1')).status === 200)
    const again = (await (await get(acme, '/v1/profiles/u1')).json()) as { counts: Record<string, number>; ids: string[] }
    expect(again.counts).toEqual({ login: 1 })
    expect(again.ids).toEqual([])
  }, 90_000)
})

describe('DELETE /v1/profiles/:id racing new events of the person', () => {
  it('erases the events the log took before the erase record and keeps, as a new profile, exactly those after it', async () => {
    const acme = s.keys.acmeAdmin
    expect((await post(acme, [{ event: 'spin', user_id: 'u5', ts: T0, event_id: 'r-first' }])).status).toBe(200)
    await until('u5 profile', async () => (await get(acme, '/v1/profiles/u5')).status === 200)
    // One client keeps sending u5's events, one a request, while the erase is asked for.
    let n = 0
    let sending = true
    const sender = (async () => {
      while (sending) {
        const i = n++
        expect((await post(acme, [{ event: 'spin', user_id: 'u5', ts: T0 + i, event_id: `r-${i}` }])).status).toBe(200)
      }
    })()
    await new Promise((r) => setTimeout(r, 150))
    const res = await del(acme, '/v1/profiles/u5')
    expect(res.status).toBe(202)
    const { job } = (await res.json()) as { job: JobView }
    await new Promise((r) => setTimeout(r, 150))
    sending = false
    await sender
    await until('the job done', async () => ((await (await get(acme, `/v1/erasures/${job.id}`)).json()) as JobView).status === 'done', 30_000)

    // The log decides: u5's events in its partition past the job's record are the new profile's.
    const p = partitionOfUser('acme', 'u5', s.ctx.partitions)
    const cut = (await s.ctx.state.privacy.getErasure(job.id))!.offsets[String(p)]!
    const { end } = await s.ctx.log.offsets(TOPICS.events, p)
    const after: string[] = []
    let before = 0
    for (const r of await readRange(s.ctx.log, TOPICS.events, p, 0, end)) {
      // Events in either format of the log (JSON by default), as the engine decodes them.
      const b = Buffer.from(r.value)
      const d = decodeEngineRecord(b, 0, b.length, p, r.offset, r.timestamp)
      if (d.kind !== 'event') continue
      const e = d.event
      if (e.tenant !== 'acme' || e.user_id !== 'u5') continue
      if (r.offset > cut) after.push(e.event_id)
      else before++
    }
    // Both sides of the race happened.
    expect(before).toBeGreaterThan(1)
    expect(after.length).toBeGreaterThan(0)
    const profile = await until('the new u5 holds every event after the record', async () => {
      const r = await get(acme, '/v1/profiles/u5')
      const body = r.status === 200 ? ((await r.json()) as { traits: { event_count: number } }) : null
      return body !== null && body.traits.event_count === after.length ? body : null
    })
    expect(profile.traits.event_count).toBe(after.length)
    const rows = await sqlWhen(s, "SELECT event_id FROM events WHERE tenant = 'acme' AND user_id = 'u5' ORDER BY event_id", (r) => r.length === after.length)
    expect(rows.map((r) => String(r[0]))).toEqual([...after].sort())
  }, 90_000)
})

describe('DELETE /v1/profiles/:id from a tenant with many erasures under way', () => {
  it("refuses the tenant's next one with 429 and stores nothing, while another tenant's goes through", async () => {
    const acme = s.keys.acmeAdmin
    expect((await post(acme, [{ event: 'spin', user_id: 'cap-1', ts: T0, event_id: 'cap-1' }])).status).toBe(200)
    expect((await post(s.keys.admin, [{ event: 'spin', user_id: 'cap-2', ts: T0, event_id: 'cap-2' }])).status).toBe(200)
    await until('both profiles', async () => (await get(acme, '/v1/profiles/cap-1')).status === 200 && (await get(s.keys.admin, '/v1/profiles/cap-2')).status === 200)
    // acme's unfinished jobs, as a flood of DELETEs would leave them (just asked: no server takes them over yet).
    const flood = Array.from({ length: MAX_UNFINISHED_ERASURES }, (_, i) => ({ ...newErasureJob('acme', [`flood-${i}`], 'key-test', {}), id: `era_flood${i}` }))
    for (const j of flood) await s.ctx.state.privacy.addErasure(j)
    try {
      const before = (await s.ctx.state.privacy.listErasures({ tenant: 'acme', active: false, limit: 1_000 })).length
      const refused = await del(acme, '/v1/profiles/cap-1')
      expect(refused.status).toBe(429)
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('too_many_erasures')
      expect((await s.ctx.state.privacy.listErasures({ tenant: 'acme', active: false, limit: 1_000 })).length).toBe(before)
      expect((await get(acme, '/v1/profiles/cap-1')).status).toBe(200)
      expect((await del(s.keys.admin, '/v1/profiles/cap-2')).status).toBe(202)
    } finally {
      // Done, tombstone lapsed: the runner leaves them alone.
      for (const j of flood) await s.ctx.state.privacy.updateErasure({ ...j, status: 'done', tombstone: false, finishedAt: Date.now() })
    }
  }, 60_000)
})

describe('DELETE /v1/profiles/:id on a server without a warehouse', () => {
  it('finishes with nothing to rewrite, and an export no longer finds the events the log still holds', async () => {
    const bare = await startTestServer({ warehouse: false }, 'segments:\n  spinner:\n    when: count(spin, 1h) >= 2\n')
    try {
      const key = bare.keys.acmeAdmin
      const send = (events: unknown[]) => fetch(`${bare.url}/v1/events`, { method: 'POST', headers: { ...auth(key), 'content-type': 'application/json' }, body: JSON.stringify(events) })
      expect(
        (
          await send([
            { event: 'spin', user_id: 'x1', ts: T0, event_id: 'x-1' },
            { event: 'spin', user_id: 'x2', ts: T0, event_id: 'x-2' },
          ])
        ).status,
      ).toBe(200)
      await until('x1 profile', async () => (await fetch(`${bare.url}/v1/profiles/x1`, { headers: auth(key) })).status === 200)
      expect((await fetch(`${bare.url}/v1/profiles/x1/export`, { headers: auth(key) })).status).toBe(200)
      const res = await fetch(`${bare.url}/v1/profiles/x1`, { method: 'DELETE', headers: auth(key) })
      expect(res.status).toBe(202)
      const { status_url } = (await res.json()) as { status_url: string }
      const job = await until('the job done', async () => {
        const j = (await (await fetch(`${bare.url}${status_url}`, { headers: auth(key) })).json()) as JobView
        return j.status === 'done' ? j : null
      })
      expect(job.steps).toEqual({ log: true, engine: true, warehouse: true })
      expect((await fetch(`${bare.url}/v1/profiles/x1/export`, { headers: auth(key) })).status).toBe(404)
      const x2 = await (await fetch(`${bare.url}/v1/profiles/x2/export`, { headers: auth(key) })).text()
      expect(x2).toContain('"event_id":"x-2"')
    } finally {
      await bare.close()
    }
  }, 60_000)
})
