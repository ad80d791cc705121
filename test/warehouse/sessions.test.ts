import { rmSync } from 'node:fs'
import { afterAll, describe, expect, it } from 'vitest'
import { openWarehouse, VIEW_NAMES, type QueryResult, type Warehouse } from '../../src/warehouse/query/index.ts'
import { SESSION_GAP_MINUTES } from '../../src/warehouse/query/sessions-view.ts'
import { compactDay } from '../../src/warehouse/sink/index.ts'
import { tempRoot, writeEvents, type FixtureEvent } from './fixtures.ts'
import { referenceSessions, sortSessions } from './sessions-reference.ts'

/*
 * The `sessions` view (docs/warehouse.md, "Sessions"): the gap rule, seed 004's session_id, and
 * explicit session_start / session_end, each checked against hand-written sessions and against
 * sessions-reference.ts (the rule again in TypeScript), over fresh and compacted files.
 */

const roots: string[] = []
afterAll(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true })
})

const ev = (event: string, user_id: string, ts: string, properties: Record<string, unknown> = {}, tenant?: string): FixtureEvent =>
  tenant === undefined ? { event, user_id, ts, properties } : { event, user_id, ts, properties, tenant }
const d1 = (hms: string) => `2026-03-01T${hms}Z`

/** Gap rule only. */
const GAP: FixtureEvent[] = [
  ev('page_view', 'g', d1('10:00:00')),
  ev('page_view', 'g', d1('10:10:00')),
  ev('page_view', 'g', d1('10:40:00')), // exactly 30 min: same session
  ev('page_view', 'g', d1('11:10:00.001')), // 30 min + 1 ms: a new one
  ev('page_view', 'g', d1('13:00:00')),
  ev('page_view', 'g', d1('23:50:00')),
  ev('page_view', 'g', '2026-03-02T00:10:00Z'), // across midnight (another dt directory): same session
  ev('page_view', 'g', d1('10:05:00'), {}, 'acme'), // the same user id in another tenant is another user
]

/** Explicit session_start / session_end. */
const EXPLICIT: FixtureEvent[] = [
  ev('session_start', 'x', d1('08:00:00')),
  ev('login', 'x', d1('09:00:00')), // 60 min idle inside a start…end pair: not split
  ev('tap', 'x', d1('09:10:00')),
  ev('session_end', 'x', d1('09:20:00')),
  ev('tap', 'x', d1('09:25:00')), // after an end: a new session, however short the gap
  ev('tap', 'x', d1('09:26:00')),
  ev('session_start', 'x', d1('09:27:00')), // a start opens one, however short the gap
  ev('tap', 'x', d1('09:28:00')),
  ev('tap', 'x', d1('11:00:00')), // that start never got its end (the next marker is a start): the gap rule splits
  ev('session_start', 'x', d1('11:05:00')),
  ev('tap', 'x', d1('11:06:00')),
  ev('session_end', 'x', d1('11:07:00')),
  ev('session_end', 'x', d1('13:00:00')), // a stray end, 113 min later: a session of its own
  ev('tap', 'x', d1('13:01:00')),
]

/** session_id (seed 004's clickstream) beside events without one. */
const BY_ID: FixtureEvent[] = [
  ev('page_view', 'c', d1('10:00:00'), { session_id: 'A' }),
  ev('page_view', 'c', d1('10:01:00'), { session_id: 'B' }), // a second device, at the same time
  ev('login', 'c', d1('10:02:00')),
  ev('tap', 'c', d1('10:05:00')),
  ev('page_view', 'c', d1('10:20:00'), { session_id: 'A' }),
  ev('tap', 'c', d1('10:40:00')), // 35 min after 10:05: A's events in between do not bridge the gap
  ev('page_view', 'c', d1('10:50:00'), { session_id: 'A' }),
  ev('session_end', 'c', d1('10:55:00'), { session_id: 'A' }), // belongs to A; ends nothing else
  ev('tap', 'c', d1('10:56:00')),
  ev('tap', 'c', d1('10:57:00'), { session_id: ' ' }), // blank: no session id
]

const ALL = [...GAP, ...EXPLICIT, ...BY_ID]

type Row = Record<string, unknown>
const objects = (r: QueryResult): Row[] => r.rows.map((row) => Object.fromEntries(r.columns.map((c, i) => [c.name, row[i]])))
const sessionsOf = async (wh: Warehouse) => sortSessions(objects(await wh.query('SELECT * FROM sessions')) as Array<Row & { tenant: string; user_id: string; started_at: string; session: string }>)

/** Writes `events` in `chunks` calls (so each day and event has several files), offsets in input order. */
async function warehouseOf(events: FixtureEvent[], chunks = 1): Promise<string> {
  const root = tempRoot()
  roots.push(root)
  const size = Math.ceil(events.length / chunks)
  let offset = 0
  for (let i = 0; i < events.length; i += size) offset = await writeEvents(root, events.slice(i, i + size), { startOffset: offset })
  return root
}

const s = (user: string, start: string, end: string, events: number, source: string, session = `${user}@${start}`, tenant = 'default') => ({
  tenant,
  user_id: user,
  session,
  source,
  started_at: start,
  ended_at: end,
  duration: (Date.parse(end) - Date.parse(start)) / 1000,
  events,
})
const iso = (hms: string) => new Date(d1(hms)).toISOString()

describe('sessions view', () => {
  it('has the gap default the docs state', () => {
    expect(SESSION_GAP_MINUTES).toBe(30)
    expect(VIEW_NAMES).toContain('sessions')
  })

  it('gap rule: more than 30 min apart starts a new session; exactly 30 does not; days and tenants', async () => {
    const wh = await openWarehouse(await warehouseOf(GAP))
    try {
      expect(await sessionsOf(wh)).toEqual([
        s('g', iso('10:05:00'), iso('10:05:00'), 1, 'gap', undefined, 'acme'),
        s('g', iso('10:00:00'), iso('10:40:00'), 3, 'gap'),
        s('g', iso('11:10:00.001'), iso('11:10:00.001'), 1, 'gap'),
        s('g', iso('13:00:00'), iso('13:00:00'), 1, 'gap'),
        s('g', iso('23:50:00'), '2026-03-02T00:10:00.000Z', 2, 'gap'),
      ])
      expect(await sessionsOf(wh)).toEqual(referenceSessions(GAP))
    } finally {
      wh.close()
    }
  })

  it('explicit session_start / session_end: a closed pair is one session whatever its gaps; an unclosed start or a stray end is only a boundary', async () => {
    // No file has a session_id column here: the view must build without one.
    const wh = await openWarehouse(await warehouseOf(EXPLICIT))
    try {
      expect(await sessionsOf(wh)).toEqual([
        s('x', iso('08:00:00'), iso('09:20:00'), 4, 'explicit'),
        s('x', iso('09:25:00'), iso('09:26:00'), 2, 'gap'),
        s('x', iso('09:27:00'), iso('09:28:00'), 2, 'explicit'),
        s('x', iso('11:00:00'), iso('11:00:00'), 1, 'gap'),
        s('x', iso('11:05:00'), iso('11:07:00'), 3, 'explicit'),
        s('x', iso('13:00:00'), iso('13:00:00'), 1, 'explicit'),
        s('x', iso('13:01:00'), iso('13:01:00'), 1, 'gap'),
      ])
      expect(await sessionsOf(wh)).toEqual(referenceSessions(EXPLICIT))
    } finally {
      wh.close()
    }
  })

  it('session_id groups its events whatever the gaps; the other events follow the gap rule among themselves', async () => {
    const wh = await openWarehouse(await warehouseOf(BY_ID))
    try {
      expect(await sessionsOf(wh)).toEqual([
        s('c', iso('10:00:00'), iso('10:55:00'), 4, 'session_id', 'A'),
        s('c', iso('10:01:00'), iso('10:01:00'), 1, 'session_id', 'B'),
        s('c', iso('10:02:00'), iso('10:05:00'), 2, 'gap'),
        s('c', iso('10:40:00'), iso('10:57:00'), 3, 'gap'),
      ])
      expect(await sessionsOf(wh)).toEqual(referenceSessions(BY_ID))
    } finally {
      wh.close()
    }
  })

  it('all three sources together, over many files and then over the same days compacted', async () => {
    const root = await warehouseOf(ALL, 4)
    const wh = await openWarehouse(root, { refreshMs: 0 })
    try {
      const want = referenceSessions(ALL)
      expect(want).toHaveLength(16)
      const fresh = await sessionsOf(wh)
      expect(fresh).toEqual(want)
      let written = 0
      for (const dt of ['2026-03-01', '2026-03-02']) written += (await compactDay(root, dt)).filesWritten
      expect(written).toBeGreaterThan(0)
      await wh.refresh(true)
      expect(await sessionsOf(wh)).toEqual(want)
      // Every event is in exactly one session.
      expect((await wh.query('SELECT sum(events)::INTEGER FROM sessions')).rows).toEqual([[ALL.length]])
    } finally {
      wh.close()
    }
  })

  it('a numeric session_id keeps the text it was sent as', async () => {
    const wh = await openWarehouse(await warehouseOf([ev('page_view', 'n', d1('10:00:00'), { session_id: 17 }), ev('page_view', 'n', d1('12:00:00'), { session_id: 17 })]))
    try {
      expect(await sessionsOf(wh)).toEqual([s('n', iso('10:00:00'), iso('12:00:00'), 2, 'session_id', '17')])
    } finally {
      wh.close()
    }
  })

  it('exists, empty and typed, on an empty warehouse', async () => {
    const root = tempRoot()
    roots.push(root)
    const wh = await openWarehouse(root)
    try {
      const r = await wh.query('SELECT * FROM sessions')
      expect(r.rows).toEqual([])
      expect(r.columns).toEqual([
        { name: 'tenant', type: 'VARCHAR' },
        { name: 'user_id', type: 'VARCHAR' },
        { name: 'session', type: 'VARCHAR' },
        { name: 'source', type: 'VARCHAR' },
        { name: 'started_at', type: 'TIMESTAMP WITH TIME ZONE' },
        { name: 'ended_at', type: 'TIMESTAMP WITH TIME ZONE' },
        { name: 'duration', type: 'DOUBLE' },
        { name: 'events', type: 'BIGINT' },
      ])
    } finally {
      wh.close()
    }
  })
})
