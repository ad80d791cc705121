import { describe, expect, it } from 'vitest'
import { compareIds } from '../../src/engine/id-order.ts'
import { auth, useTestServer } from './harness.ts'

/** Ids that broke paging: integers, hex strings, exponent and zero-led numbers, negatives, text. */
function mixedIds(n: number): string[] {
  const out = new Set<string>()
  for (let i = 0; out.size < n; i++) {
    out.add(String(i * 7))
    out.add(((i * 2_654_435_761) >>> 0).toString(16))
    if (i % 5 === 0) out.add(`${i}e3`)
    if (i % 7 === 0) out.add(`00${i}`)
    if (i % 11 === 0) out.add(`-${i + 1}`)
    if (i % 3 === 0) out.add(`user-${i}`)
  }
  return [...out].slice(0, n)
}

describe('paging over any mix of user ids (issue 15, item 9)', () => {
  const s = useTestServer()

  it('orders ids totally: integers first by value, then text', () => {
    const ids = mixedIds(300)
    const sorted = [...ids].sort(compareIds)
    for (let i = 1; i < sorted.length; i++) expect(compareIds(sorted[i - 1]!, sorted[i]!)).toBeLessThan(0)
    // The cycle the old rule had: "2" < "10" < "1a" < "2".
    expect([compareIds('2', '10'), compareIds('10', '1a'), compareIds('2', '1a')].map(Math.sign)).toEqual([-1, -1, -1])
  })

  it('lists every user exactly once, with a different cursor on every page', async () => {
    const ids = mixedIds(530)
    const now = Date.now()
    for (let i = 0; i < ids.length; i += 100) {
      const body = ids.slice(i, i + 100).map((id) => ({ event: 'spin', user_id: id, ts: now }))
      const res = await fetch(`${s.url}/v1/events`, { method: 'POST', headers: { ...auth(s.keys.write), 'content-type': 'application/json' }, body: JSON.stringify(body) })
      expect(res.status).toBe(200)
    }
    const seen: string[] = []
    const cursors = new Set<string>()
    for (const deadline = Date.now() + 20_000; ;) {
      seen.length = 0
      cursors.clear()
      let cursor: string | null = null
      for (let page = 0; page < 100; page++) {
        const res = await fetch(`${s.url}/v1/profiles?limit=37${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`, { headers: auth(s.keys.read) })
        expect(res.status).toBe(200)
        const body = (await res.json()) as { profiles: Array<{ user_id: string }>; next: string | null }
        seen.push(...body.profiles.map((p) => p.user_id))
        if (body.next === null) break
        expect(cursors.has(body.next)).toBe(false)
        cursors.add(body.next)
        cursor = body.next
      }
      if (seen.length >= ids.length || Date.now() > deadline) break
      await new Promise((r) => setTimeout(r, 200))
    }
    expect(seen.length).toBe(ids.length)
    expect(new Set(seen).size).toBe(ids.length)
    expect(seen).toEqual([...ids].sort(compareIds))
  })

  it.each(['abc', '17', 'u.', 'u.!!', 'u.YQ=', `u.${'A'.repeat(10)}%`])('refuses the cursor "%s", which no page handed out, with 400', async (cursor) => {
    for (const path of ['/v1/profiles', '/v1/segments/spinner/members']) {
      const res = await fetch(`${s.url}${path}?cursor=${encodeURIComponent(cursor)}`, { headers: auth(s.keys.read) })
      expect(res.status, path).toBe(400)
      const body = (await res.json()) as { error: { code: string; message: string; field?: string } }
      expect(body.error.code).toBe('invalid_query')
      expect(body.error.message).toContain('cursor must be the "next" value of a previous page')
    }
  })
})
