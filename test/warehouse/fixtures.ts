import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { Auth } from '../../src/api/auth.ts'
import type { ServerConfig } from '../../src/api/config.ts'
import type { ApiContext } from '../../src/api/context.ts'
import { Signal } from '../../src/api/signal.ts'

/** An event as the sink would receive it; `properties` are flattened into columns (nested keys joined with `_`). */
export interface FixtureEvent {
  event: string
  user_id: string
  ts: string
  tenant?: string
  properties?: Record<string, unknown>
}

function flatten(obj: Record<string, unknown>, prefix = '', out: Record<string, string | number | boolean> = {}): Record<string, string | number | boolean> {
  for (const [k, v] of Object.entries(obj)) {
    const key = prefix ? `${prefix}_${k}` : k
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) flatten(v as Record<string, unknown>, key, out)
    else if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out[key] = v
  }
  return out
}

const BASE_TYPES: Record<string, string> = {
  event: 'VARCHAR',
  user_id: 'VARCHAR',
  anonymous_id: 'VARCHAR',
  ts: 'TIMESTAMP',
  event_id: 'VARCHAR',
  tenant: 'VARCHAR',
  received_at: 'TIMESTAMP',
  partition: 'INTEGER',
  offset: 'BIGINT',
  properties: 'VARCHAR',
}

function sqlStr(s: string): string {
  return `'${s.replaceAll("'", "''")}'`
}

async function withDb<T>(fn: (c: DuckDBConnection) => Promise<T>): Promise<T> {
  const db = await DuckDBInstance.create(':memory:')
  const c = await db.connect()
  try {
    return await fn(c)
  } finally {
    c.closeSync()
    db.closeSync()
  }
}

/** Writes NDJSON rows to `path` as Parquet with the given column types (via DuckDB, like the sink). */
async function copyRows(c: DuckDBConnection, rows: Record<string, unknown>[], types: Record<string, string>, path: string): Promise<void> {
  const tmp = `${path}.ndjson`
  writeFileSync(tmp, rows.map((r) => JSON.stringify(r)).join('\n') + '\n')
  const cols = Object.entries(types)
    .map(([k, t]) => `${sqlStr(k)}: ${sqlStr(t)}`)
    .join(', ')
  try {
    await c.run(`COPY (SELECT * FROM read_json(${sqlStr(tmp)}, format = 'newline_delimited', columns = {${cols}})) TO ${sqlStr(path)} (FORMAT parquet)`)
  } finally {
    rmSync(tmp, { force: true })
  }
}

/**
 * Writes events into `<root>/events/dt=YYYY-MM-DD/event=NAME/part-<partition>-<first>-<last>.parquet`,
 * one file per (day, event) of each call; offsets continue across calls through `startOffset`.
 */
export async function writeEvents(root: string, events: FixtureEvent[], opts: { partition?: number; startOffset?: number } = {}): Promise<number> {
  const partition = opts.partition ?? 0
  let offset = opts.startOffset ?? 0
  const groups = new Map<string, Array<Record<string, unknown>>>()
  for (const e of events) {
    const ts = new Date(e.ts)
    const props = flatten(e.properties ?? {})
    const row: Record<string, unknown> = {
      event: e.event,
      user_id: e.user_id,
      anonymous_id: null,
      ts: ts.toISOString(),
      event_id: `ev-${partition}-${offset}`,
      tenant: e.tenant ?? 'default',
      received_at: ts.toISOString(),
      partition,
      offset,
      properties: JSON.stringify(e.properties ?? {}),
      ...props,
    }
    offset++
    const key = `dt=${ts.toISOString().slice(0, 10)}/event=${e.event}`
    const list = groups.get(key) ?? []
    list.push(row)
    groups.set(key, list)
  }
  await withDb(async (c) => {
    for (const [key, rows] of groups) {
      const types: Record<string, string> = { ...BASE_TYPES }
      for (const r of rows) {
        for (const [k, v] of Object.entries(r)) {
          if (k in BASE_TYPES) continue
          types[k] = typeof v === 'number' ? 'DOUBLE' : typeof v === 'boolean' ? 'BOOLEAN' : 'VARCHAR'
        }
      }
      const dir = join(root, 'events', key)
      mkdirSync(dir, { recursive: true })
      const first = rows[0]!.offset as number
      const last = rows[rows.length - 1]!.offset as number
      await copyRows(c, rows, types, join(dir, `part-${partition}-${String(first).padStart(12, '0')}-${String(last).padStart(12, '0')}.parquet`))
    }
  })
  return offset
}

export interface FixtureSegmentChange {
  segment: string
  user_id: string
  change: 'entered' | 'exited'
  at: string
  tenant?: string
}

/** Segment changes as the engine emits them (`at` in epoch ms), into `<root>/segment-changes/`. */
export async function writeSegmentChanges(root: string, changes: FixtureSegmentChange[]): Promise<void> {
  const dir = join(root, 'segment-changes')
  mkdirSync(dir, { recursive: true })
  const versions = new Map<string, number>()
  const rows = changes.map((c) => {
    const v = (versions.get(c.user_id) ?? 0) + 1
    versions.set(c.user_id, v)
    return { segment: c.segment, tenant: c.tenant ?? 'default', user_id: c.user_id, change: c.change, at: Date.parse(c.at), values: '{}', version: v }
  })
  await withDb((c) =>
    copyRows(
      c,
      rows,
      { segment: 'VARCHAR', tenant: 'VARCHAR', user_id: 'VARCHAR', change: 'VARCHAR', at: 'BIGINT', values: 'VARCHAR', version: 'BIGINT' },
      join(dir, 'part-0-000000000000-000000000099.parquet'),
    ),
  )
}

export function tempRoot(): string {
  return mkdtempSync(join(tmpdir(), 'tagstream-wh-'))
}

const H = (user: string) => ({ user1: 'user1.comcast.com', user2: 'user46.earthlink.com', user3: 'user3.EarthLink.com:5000' })[user] ?? null

function game(user: string, extra: Record<string, unknown>) {
  return { host: H(user), user_agent: 'curl/8.5.0', accept: '*/*', ...extra }
}

/**
 * The hand-made dataset every report test uses. Expected answers (see reports.test.ts):
 * user1 on comcast, user2 and user3 on earthlink; user1 first login → first purchase 600 s,
 * user2 1,200 s (mean 900); latest wealth user1 750, user2 10, user3 5,000.
 */
export const SMALL_DATASET: FixtureEvent[] = [
  { event: 'player_created', user_id: 'user1', ts: '2026-01-01T10:00:00Z', properties: game('user1', { player_wealth: 1000 }) },
  { event: 'player_created', user_id: 'user2', ts: '2026-01-01T10:00:00Z', properties: game('user2', { player_wealth: 50 }) },
  { event: 'player_created', user_id: 'user3', ts: '2026-01-01T09:59:00Z', properties: game('user3', { player_wealth: 5000 }) },
  { event: 'login', user_id: 'user1', ts: '2026-01-01T10:01:00Z', properties: game('user1', { status: 'ok', player_wealth: 1000 }) },
  { event: 'login', user_id: 'user2', ts: '2026-01-01T10:02:00Z', properties: game('user2', { status: 'ok', player_wealth: 50 }) },
  { event: 'login', user_id: 'user3', ts: '2026-01-01T10:00:00Z', properties: game('user3', { status: 'ok', player_wealth: 5000 }) },
  {
    event: 'purchase',
    user_id: 'user1',
    ts: '2026-01-01T10:11:00Z',
    properties: game('user1', {
      kind: 'sword',
      type: 'cutlass',
      cost: 100,
      status: 'approved_purchase',
      amount: 100,
      player_created: '2026-01-01T10:00:00.000Z',
      player_wealth: 900,
      player_num_items: 1,
    }),
  },
  {
    event: 'purchase',
    user_id: 'user1',
    ts: '2026-01-01T10:30:00Z',
    properties: game('user1', {
      kind: 'spell',
      type: 'charm',
      cost: 150,
      status: 'approved_purchase',
      amount: 150,
      player_created: '2026-01-01T10:00:00.000Z',
      player_wealth: 750,
      player_num_items: 2,
    }),
  },
  {
    event: 'purchase',
    user_id: 'user2',
    ts: '2026-01-01T10:20:00Z',
    properties: game('user2', { kind: 'sword', type: 'cutlass', cost: 200, status: 'insufficient_funds', player_wealth: 50, player_num_items: 0 }),
  },
  {
    event: 'purchase',
    user_id: 'user2',
    ts: '2026-01-01T10:22:00Z',
    properties: game('user2', { kind: 'sword', type: 'saber', cost: 40, status: 'approved_purchase', amount: 40, player_wealth: 10, player_num_items: 1 }),
  },
  { event: 'login', user_id: 'user2', ts: '2026-01-02T09:00:00Z', properties: game('user2', { status: 'ok', player_wealth: 10 }) },
  { event: 'login', user_id: 'user3', ts: '2026-01-02T12:00:00Z', properties: game('user3', { status: 'ok', player_wealth: 5000 }) },
  {
    event: 'join_guild',
    user_id: 'user1',
    ts: '2026-01-02T12:00:00Z',
    properties: game('user1', { kind: 'guild', org: 'soldiers', level: 'masterofarms', cost: 0, status: 'approved_join', player_wealth: 750, player_num_affiliations: 1 }),
  },
  {
    event: 'join_team',
    user_id: 'user3',
    ts: '2026-01-02T12:30:00Z',
    properties: game('user3', { kind: 'team', org: 'soldiers', level: 'rookie', cost: 0, status: 'approved_join', player_wealth: 5000, player_num_affiliations: 1 }),
  },
  {
    event: 'join_guild',
    user_id: 'user3',
    ts: '2026-01-02T12:40:00Z',
    properties: game('user3', { kind: 'guild', org: 'magicians', level: 'accolyte', cost: 0, status: 'approved_join', player_wealth: 5000, player_num_affiliations: 2 }),
  },
]

export const SMALL_SEGMENT_CHANGES: FixtureSegmentChange[] = [
  { segment: 'high_roller', user_id: 'user1', change: 'entered', at: '2026-01-01T10:05:00Z' },
  { segment: 'high_roller', user_id: 'user2', change: 'entered', at: '2026-01-01T10:20:00Z' },
  { segment: 'high_roller', user_id: 'user1', change: 'exited', at: '2026-01-01T11:10:00Z' },
  { segment: 'lapsed', user_id: 'user3', change: 'entered', at: '2026-01-02T13:00:00Z' },
]

/** A warehouse with SMALL_DATASET and SMALL_SEGMENT_CHANGES. */
export async function smallWarehouse(root = tempRoot()): Promise<string> {
  await writeEvents(root, SMALL_DATASET)
  await writeSegmentChanges(root, SMALL_SEGMENT_CHANGES)
  return root
}

/**
 * A large synthetic warehouse generated inside DuckDB with range(): `rows` events over `days` days
 * and the game events of docs/game.md, one file per (day, event) per `partitions`. For benchmarks.
 */
export async function writeLargeWarehouse(root: string, rows: number, opts: { days?: number; partitions?: number; users?: number } = {}): Promise<void> {
  const days = opts.days ?? 10
  const partitions = opts.partitions ?? 4
  const users = opts.users ?? 100_000
  const events = ['purchase', 'login', 'join_guild', 'join_team', 'player_created', 'spin']
  await withDb(async (c) => {
    await c.run(`CREATE TABLE big AS
      SELECT i, ['purchase','login','spin','spin','spin','join_guild','join_team','purchase','login','player_created'][1 + (i % 10)::INT] AS event,
        'user' || (hash(i) % ${users}) AS user_id, NULL::VARCHAR AS anonymous_id,
        TIMESTAMP '2026-01-01' + to_microseconds((i * (${days} * 86400000000 // ${rows}))::BIGINT) AS ts,
        'ev' || i AS event_id, 'default' AS tenant,
        TIMESTAMP '2026-01-01' + to_microseconds((i * (${days} * 86400000000 // ${rows}))::BIGINT) AS received_at,
        (i % ${partitions})::INTEGER AS partition, i AS "offset", '{}' AS properties,
        'user' || (i % 97) || '.' || ['comcast','att','google','frontier','cox','earthlink'][1 + (i % 6)::INT] || '.com' AS host,
        'curl/8.5.0' AS user_agent, '*/*' AS accept,
        ['sword','spell','shield','potion','helmet','knife'][1 + ((i // 10) % 6)::INT] AS kind,
        ['cutlass','charm','buckler','elixir','cap','dagger'][1 + ((i // 10) % 6)::INT] AS type,
        (10 + (i % 500))::DOUBLE AS cost,
        CASE WHEN i % 7 = 0 THEN 'insufficient_funds' WHEN i % 10 IN (5, 6) THEN 'approved_join' WHEN i % 10 IN (1, 8) THEN 'ok' ELSE 'approved_purchase' END AS status,
        ['soldiers','magicians','Golds Gym','santas shop'][1 + ((i // 10) % 4)::INT] AS org, 'rookie' AS level,
        (hash(i) % 10000000)::DOUBLE AS player_wealth, ((i // 10) % 50)::DOUBLE AS player_num_items,
        ((i // 10) % 5)::DOUBLE AS player_num_affiliations, '2025-12-31T00:00:00.000Z' AS player_created
      FROM range(${rows}) t(i)`)
    for (let d = 0; d < days; d++) {
      const dt = new Date(Date.UTC(2026, 0, 1 + d)).toISOString().slice(0, 10)
      for (const ev of events) {
        for (let p = 0; p < partitions; p++) {
          const dir = join(root, 'events', `dt=${dt}`, `event=${ev}`)
          const where = `event = '${ev}' AND partition = ${p} AND CAST(ts AS DATE) = DATE '${dt}'`
          const r = await c.runAndReadAll(`SELECT min("offset"), max("offset") FROM big WHERE ${where}`)
          const [first, last] = r.getRowsJson()[0] ?? []
          if (first === null || first === undefined) continue
          mkdirSync(dir, { recursive: true })
          const cols =
            ev === 'purchase'
              ? ', host, user_agent, accept, kind, type, cost, status, player_wealth, player_num_items, player_created'
              : ev.startsWith('join_')
                ? ', host, user_agent, accept, org, level, cost, status, player_wealth, player_num_affiliations, player_created'
                : ev === 'login'
                  ? ', host, user_agent, accept, status, player_wealth'
                  : ev === 'player_created'
                    ? ', host, player_wealth'
                    : ''
          const file = `part-${p}-${String(first).padStart(12, '0')}-${String(last).padStart(12, '0')}.parquet`
          await c.run(
            `COPY (SELECT event, user_id, anonymous_id, ts, event_id, tenant, received_at, partition, "offset", properties${cols} FROM big WHERE ${where} ORDER BY "offset") TO ${sqlStr(join(dir, file))} (FORMAT parquet)`,
          )
        }
      }
    }
  })
}

/** What the query routes use of the server's context (config, auth, the logger and the files signal); the rest of the wiring is not needed. */
export function queryRouteContext(config: ServerConfig): ApiContext {
  return { config, auth: new Auth(config.keys), partitions: 1, inflight: { bytes: 0 }, logger: pino({ level: 'silent' }), warehouseFiles: new Signal() } as Partial<ApiContext> as ApiContext
}
