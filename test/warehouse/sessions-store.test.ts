import { mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { openWarehouse, type QueryResult, type Warehouse } from '../../src/warehouse/query/index.ts'
import { compactDay } from '../../src/warehouse/sink/index.ts'
import { tempRoot, writeEvents, type FixtureEvent } from './fixtures.ts'
import { referenceSessions, sortSessions } from './sessions-reference.ts'

/*
 * The materialised `sessions` view (src/warehouse/query/sessions-store.ts) against the reference
 * (sessions-reference.ts) while events keep arriving: after every batch the tables, brought up to
 * date incrementally, must give exactly the sessions of every event written so far. Batches carry
 * markers, session_ids, rows that come late (before a user's last event) and rows for several log
 * partitions; days are compacted between batches (a merged file holding covered and new rows) and
 * a day is removed (the tables are built again).
 */

const roots: string[] = []
afterAll(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true })
})

type Row = Record<string, unknown>
const objects = (r: QueryResult): Row[] => r.rows.map((row) => Object.fromEntries(r.columns.map((c, i) => [c.name, row[i]])))
const sessionsOf = async (wh: Warehouse) =>
  sortSessions(objects(await wh.query('SELECT * FROM sessions', { maxRows: 100_000 })) as Array<Row & { tenant: string; user_id: string; started_at: string; session: string }>)

/** A small deterministic generator (mulberry32), so a failure replays. */
function rng(seed: number): () => number {
  let a = seed
  return () => {
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const USERS = ['u1', 'u2', 'u3', 'u4', 'u5']
const START = Date.parse('2026-03-01T20:00:00Z')

/**
 * One batch: per user a run of events after their clock (gaps of 1–80 minutes, so some split),
 * with markers and session_ids now and then, and a few late rows (hours before the user's clock).
 * Every time is distinct (ms added from a counter), so (ts) alone orders events as (ts, partition, offset) does.
 */
function batch(next: () => number, clocks: Map<string, number>, seq: { n: number }, size: number, markers: boolean): FixtureEvent[] {
  const out: FixtureEvent[] = []
  for (let i = 0; i < size; i++) {
    const user = USERS[Math.floor(next() * USERS.length)]!
    const tenant = next() < 0.2 ? 'acme' : undefined
    const key = `${tenant ?? 'default'}/${user}`
    const clock = clocks.get(key) ?? START
    const late = next() < 0.08
    const at = late ? clock - Math.floor(next() * 5 * 3_600_000) : clock + Math.floor((1 + next() * 79) * 60_000)
    if (!late) clocks.set(key, at)
    const r = next()
    const event = markers && r < 0.12 ? 'session_start' : markers && r < 0.22 ? 'session_end' : next() < 0.5 ? 'tap' : 'page_view'
    const properties = next() < 0.15 ? { session_id: `s${Math.floor(next() * 3)}` } : {}
    const e: FixtureEvent = { event, user_id: user, ts: new Date(at + (seq.n++ % 1000)).toISOString(), properties }
    if (tenant !== undefined) e.tenant = tenant
    out.push(e)
  }
  return out
}

/** A fresh warehouse and one test's generator; each batch goes to one partition, all three are used across batches. */
function scenario(seed: number) {
  const root = tempRoot()
  roots.push(root)
  const next = rng(seed)
  const clocks = new Map<string, number>()
  const seq = { n: 0 }
  const offsets = [0, 0, 0]
  const all: FixtureEvent[] = []
  return {
    root,
    next,
    all,
    batch: (size: number, markers: boolean) => batch(next, clocks, seq, size, markers),
    /** Writes `events` into `into`: the warehouse, or a directory aside whose files are moved in later. */
    async write(events: FixtureEvent[], into = root): Promise<void> {
      const p = all.length % 3
      offsets[p] = await writeEvents(into, events, { partition: p, startOffset: offsets[p] })
      all.push(...events)
    },
  }
}

/** Merges every day (files the tables cover with ones they do not: a merged file straddles the cover). */
async function compactAll(root: string): Promise<void> {
  for (const dt of readdirSync(join(root, 'events')).map((d) => d.slice(3))) await compactDay(root, dt)
}

/** Moves every file under `from` to the same place under `to`. */
function moveFiles(from: string, to: string): void {
  for (const entry of readdirSync(from, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue
    const rel = relative(from, join(entry.parentPath, entry.name))
    mkdirSync(dirname(join(to, rel)), { recursive: true })
    renameSync(join(from, rel), join(to, rel))
  }
}

async function settle(wh: Warehouse): Promise<void> {
  await wh.refresh(true)
  await wh.settled()
}

describe('materialised sessions', () => {
  for (const markers of [false, true]) {
    it(`stay equal to the reference as batches arrive (${markers ? 'with' : 'without'} markers), through compactions and late rows`, async () => {
      const s = scenario(markers ? 7 : 11)
      await s.write(s.batch(40, markers))
      const wh = await openWarehouse(s.root, {
        refreshMs: 0,
        materialiseSessions: true,
        onError: (err) => {
          throw err
        },
      })
      try {
        await settle(wh)
        expect(await sessionsOf(wh)).toEqual(referenceSessions(s.all))
        for (let round = 0; round < 12; round++) {
          await s.write(s.batch(15 + Math.floor(s.next() * 30), markers))
          if (round % 4 === 3) await compactAll(s.root)
          await settle(wh)
          expect(await sessionsOf(wh), `round ${round}`).toEqual(referenceSessions(s.all))
        }
        expect((await wh.query("SELECT count(*)::INTEGER FROM duckdb_tables() WHERE schema_name = '_sessions'")).rows).toEqual([[2]])
      } finally {
        wh.close()
      }
    })
  }

  it('stay equal to the reference when rebuilds outrun the updates (each update reads its own files)', async () => {
    const s = scenario(13)
    await s.write(s.batch(300, true))
    const wh = await openWarehouse(s.root, {
      refreshMs: 0,
      materialiseSessions: true,
      onError: (err) => {
        throw err
      },
    })
    try {
      await settle(wh)
      for (let round = 0; round < 4; round++) {
        await compactAll(s.root)
        // Several rebuilds queued behind one update: the batches are written aside first and moved
        // in between rebuilds (a rename), so each rebuild comes while the update before it runs, and a
        // later rebuild's rows must not be read by an earlier update.
        const staged: string[] = []
        for (let k = 0; k < 4; k++) {
          const aside = tempRoot()
          roots.push(aside)
          await s.write(s.batch(200 + Math.floor(s.next() * 400), true), aside)
          staged.push(aside)
        }
        for (const aside of staged) {
          moveFiles(aside, s.root)
          await wh.refresh(true)
        }
        await wh.settled()
        expect(await sessionsOf(wh), `round ${round}`).toEqual(referenceSessions(s.all))
      }
    } finally {
      wh.close()
    }
  })

  it('are built again when a day they cover is gone, and answer live meanwhile', async () => {
    const s = scenario(3)
    await s.write(s.batch(120, true))
    const { root, all } = s
    const wh = await openWarehouse(root, { refreshMs: 0, materialiseSessions: true })
    try {
      await settle(wh)
      expect(await sessionsOf(wh)).toEqual(referenceSessions(all))
      const days = readdirSync(join(root, 'events')).sort()
      expect(days.length).toBeGreaterThan(1)
      rmSync(join(root, 'events', days[0]!), { recursive: true })
      const kept = all.filter((e) => `dt=${e.ts.slice(0, 10)}` !== days[0])
      await wh.refresh(true)
      // Right away (the live view) and once built again (the tables).
      expect(await sessionsOf(wh)).toEqual(referenceSessions(kept))
      await settle(wh)
      expect(await sessionsOf(wh)).toEqual(referenceSessions(kept))
    } finally {
      wh.close()
    }
  })

  // Issue 16's end-to-end target: a flush's rows waited in the benchmark 1.3 s for the sessions
  // update when it ran inside the view rebuild. The rebuild now ends with the views; the tables follow.
  it('do not hold up a rebuild: the new events answer at once, sessions the rebuild before until the update commits', async () => {
    const s = scenario(5)
    await s.write(s.batch(200, true))
    const first = s.all.length
    const wh = await openWarehouse(s.root, { materialiseSessions: true })
    try {
      await settle(wh)
      const total = async () => Number((await wh.query('SELECT sum(events) FROM sessions')).rows[0]![0])
      expect(await total()).toBe(first)
      // A large tail, so the update's statements take long enough to be seen running.
      await s.write(Array.from({ length: 20 }, () => s.batch(1_000, true)).flat())
      await wh.refresh(true)
      const [events, during] = await Promise.all([wh.query('SELECT count(*) FROM events'), total()])
      expect(Number(events.rows[0]![0])).toBe(s.all.length)
      expect(during, 'sessions of the rebuild before, not a part of the update').toBe(first)
      await wh.settled()
      expect(await total()).toBe(s.all.length)
      expect(await sessionsOf(wh)).toEqual(referenceSessions(s.all))
    } finally {
      wh.close()
    }
  })
})
