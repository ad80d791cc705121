import { pack, unpack } from 'msgpackr'
import { describe, expect, it } from 'vitest'
import { decodeUser, encodeUser } from '../../src/engine/user-snapshot.ts'
import { LINK, type UserState } from '../../src/engine/user-state.ts'
import { engine, ev, rules, T0 } from './helpers.ts'

const YAML = 'segments:\n  regular:\n    when: count(app_open) >= 2\n'

function person(): { u: UserState; r: ReturnType<typeof rules> } {
  const r = rules(YAML)
  const e = engine(YAML)
  e.process(ev('app_open', 'alice', T0))
  const u = e.getUser('default', 'alice')!
  u.links = new Map([
    ['dev-b', LINK.linked],
    ['dev-a', LINK.pending],
    ['bob', LINK.refused],
  ])
  return { u, r }
}

/** Every object key anywhere in an unpacked value. */
function keysIn(v: unknown, out: Set<string> = new Set()): Set<string> {
  if (Array.isArray(v)) for (const x of v) keysIn(x, out)
  else if (v !== null && typeof v === 'object' && !(v instanceof Uint8Array)) {
    for (const [k, x] of Object.entries(v)) {
      out.add(k)
      keysIn(x, out)
    }
  }
  return out
}

describe('user snapshots', () => {
  it('never use an id a client sent as an object key', () => {
    // Unbounded keys fill V8's shared tree of object shapes: past ~1,500 of them, every object
    // the engine thread builds key by key (each profile read) gets shapes of its own in the old
    // generation, and its scavenges grew from 2 to 10-18 ms (user-snapshot.ts, linkList).
    const { u, r } = person()
    const keys = keysIn(unpack(encodeUser(u, r.rules)))
    for (const id of ['dev-a', 'dev-b', 'bob', 'alice']) expect(keys.has(id)).toBe(false)
  })

  it('keep links, their states and their order through a checkpoint', () => {
    const { u, r } = person()
    const back = decodeUser(encodeUser(u, r.rules), r.rules)
    expect([...back.links!]).toEqual([
      ['dev-b', LINK.linked],
      ['dev-a', LINK.pending],
      ['bob', LINK.refused],
    ])
    // The same state writes the same bytes (a worker taking a partition over must).
    expect(Buffer.from(encodeUser(back, r.rules)).equals(Buffer.from(encodeUser(u, r.rules)))).toBe(true)
  })

  it('read the links of snapshots written before the list (an object keyed by id)', () => {
    const { u, r } = person()
    const snap = unpack(encodeUser(u, r.rules)) as Record<string, unknown>
    delete snap.lk
    snap.ln = { 'dev-b': 1, 'dev-a': 0, bob: 2, junk: 7 }
    const back = decodeUser(pack(snap), r.rules)
    expect([...back.links!]).toEqual([
      ['dev-b', LINK.linked],
      ['dev-a', LINK.pending],
      ['bob', LINK.refused],
    ])
  })

  it('write no links for a user without any', () => {
    const r = rules(YAML)
    const e = engine(YAML)
    e.process(ev('app_open', 'carol', T0))
    const u = e.getUser('default', 'carol')!
    const snap = unpack(encodeUser(u, r.rules)) as Record<string, unknown>
    expect('lk' in snap || 'ln' in snap).toBe(false)
    expect(decodeUser(encodeUser(u, r.rules), r.rules).links).toBeNull()
  })
})
