import type { FixtureEvent } from './fixtures.ts'

/**
 * The session rule of docs/warehouse.md ("Sessions") written again in plain TypeScript, one event at
 * a time, so the tests check the `sessions` view's SQL against an independent computation.
 */
export interface ReferenceSession {
  tenant: string
  user_id: string
  session: string
  source: 'session_id' | 'explicit' | 'gap'
  started_at: string
  ended_at: string
  duration: number
  events: number
}

interface Ev {
  event: string
  ms: number
  /** Position in the input: the offset order writeEvents gives, the tie-break after ts. */
  i: number
}

function sessionIdOf(e: FixtureEvent): string | null {
  const v = e.properties?.session_id
  if (v === undefined || v === null) return null
  const s = String(v).trim()
  return s === '' ? null : s
}

function close(tenant: string, user: string, run: Ev[], session: string, source: ReferenceSession['source']): ReferenceSession {
  const first = run[0]!.ms
  const last = run[run.length - 1]!.ms
  return {
    tenant,
    user_id: user,
    session,
    source,
    started_at: new Date(first).toISOString(),
    ended_at: new Date(last).toISOString(),
    duration: (last - first) / 1000,
    events: run.length,
  }
}

export function referenceSessions(events: readonly FixtureEvent[], gapMinutes = 30): ReferenceSession[] {
  const gapMs = gapMinutes * 60_000
  const byUser = new Map<string, { tenant: string; user: string; ids: Map<string, Ev[]>; rest: Ev[] }>()
  events.forEach((e, i) => {
    const tenant = e.tenant ?? 'default'
    const key = `${tenant}\u0000${e.user_id}`
    let u = byUser.get(key)
    if (!u) byUser.set(key, (u = { tenant, user: e.user_id, ids: new Map(), rest: [] }))
    const ev = { event: e.event, ms: Date.parse(e.ts), i }
    const sid = sessionIdOf(e)
    if (sid === null) u.rest.push(ev)
    else u.ids.set(sid, [...(u.ids.get(sid) ?? []), ev])
  })
  const out: ReferenceSession[] = []
  for (const { tenant, user, ids, rest } of byUser.values()) {
    for (const [sid, list] of ids)
      out.push(
        close(
          tenant,
          user,
          list.sort((a, b) => a.ms - b.ms || a.i - b.i),
          sid,
          'session_id',
        ),
      )
    rest.sort((a, b) => a.ms - b.ms || a.i - b.i)
    const isMarker = (e: Ev) => e.event === 'session_start' || e.event === 'session_end'
    let run: Ev[] = []
    const flush = () => {
      if (run.length === 0) return
      const explicit = run.some(isMarker)
      out.push(close(tenant, user, run, `${user}@${new Date(run[0]!.ms).toISOString()}`, explicit ? 'explicit' : 'gap'))
      run = []
    }
    rest.forEach((e, k) => {
      const prev = rest[k - 1]
      const before = rest.slice(0, k).filter(isMarker).at(-1)?.event
      const after = rest.slice(k + 1).find(isMarker)?.event
      const inPair = before === 'session_start' && (e.event === 'session_end' || after === 'session_end')
      const opens = prev === undefined || e.event === 'session_start' || prev.event === 'session_end' || (!inPair && e.ms - prev.ms > gapMs)
      if (opens) flush()
      run.push(e)
    })
    flush()
  }
  return sortSessions(out)
}

export function sortSessions<T extends { tenant: string; user_id: string; started_at: string; session: string }>(rows: T[]): T[] {
  const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)
  return rows.sort((a, b) => cmp(a.tenant, b.tenant) || cmp(a.user_id, b.user_id) || cmp(a.started_at, b.started_at) || cmp(a.session, b.session))
}
