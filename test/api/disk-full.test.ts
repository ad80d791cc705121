import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { canMount, fillDisk, mountTmpfs, unmountTmpfs } from '../support/tmpfs.ts'
import { auth, startTestServer, type TestServer } from './harness.ts'

const RULES = 'segments:\n  spinner:\n    when: count(spin, 1h) >= 3\n'

/**
 * Issue 15, item 3, over HTTP: the server's data directory on a small tmpfs that fills up. Clients
 * must get 503 with a message that says what is wrong, the process must stay up, no 2xx for data
 * not stored, and ingest and segmentation must resume by themselves when space returns.
 */
describe.skipIf(!canMount)('tagstream serve on a full disk', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tagstream-full-serve-'))
  const ballast = join(dir, 'ballast')
  let s: TestServer
  beforeAll(async () => {
    mountTmpfs(dir, '48m')
    mkdirSync(join(dir, 'data'))
    s = await startTestServer({ dataDir: join(dir, 'data'), warehouse: false }, RULES)
  })
  afterAll(async () => {
    await s?.close()
    await unmountTmpfs(dir)
    rmSync(dir, { recursive: true, force: true })
  })

  const post = (events: unknown[]) => fetch(`${s.url}/v1/events`, { method: 'POST', headers: { ...auth(s.keys.write), 'content-type': 'application/json' }, body: JSON.stringify(events) })

  it('answers 503 naming the disk while it is full, stays up, and resumes ingest and segmentation when space returns', async () => {
    const now = Date.now()
    const padding = 'x'.repeat(2_000)
    expect((await post([{ event: 'spin', user_id: 'before', ts: now }])).status).toBe(200)
    // Leave a little room, then fill it with requests until the log refuses.
    fillDisk(dir, 256 * 1024)
    const acked: string[] = []
    let refused: { status: number; body: { error?: { code: string; message: string } } } | null = null
    for (let i = 0; i < 2_000 && refused === null; i++) {
      const id = `fill-${i}`
      const res = await post(Array.from({ length: 20 }, (_, j) => ({ event: 'pad', user_id: id, event_id: `${id}-${j}`, ts: now, padding })))
      if (res.status === 200) acked.push(id)
      else refused = { status: res.status, body: (await res.json()) as { error?: { code: string; message: string } } }
    }
    expect(refused).not.toBeNull()
    expect(refused!.status).toBe(503)
    expect(refused!.body.error?.message).toContain('could not write to disk')
    // Up and answering while full.
    expect((await fetch(`${s.url}/healthz`)).status).toBe(200)
    expect((await post([{ event: 'spin', user_id: 'during', ts: now }])).status).toBe(503)

    rmSync(ballast)
    let status = 0
    for (const deadline = Date.now() + 10_000; Date.now() < deadline;) {
      status = (await post([0, 1, 2].map((k) => ({ event: 'spin', user_id: 'after', ts: Date.now() + k - 10 })))).status
      if (status === 200) break
      await new Promise((r) => setTimeout(r, 250))
    }
    expect(status).toBe(200)
    // The engine, whose own writes failed too, resumes from its checkpoint and segments the new user.
    let member = false
    for (const deadline = Date.now() + 40_000; !member && Date.now() < deadline;) {
      const p = await fetch(`${s.url}/v1/profiles/after`, { headers: auth(s.keys.read) })
      member = p.status === 200 && ((await p.json()) as { segments: Array<{ segment: string }> }).segments.some((x) => x.segment === 'spinner')
      if (!member) await new Promise((r) => setTimeout(r, 250))
    }
    expect(member).toBe(true)
    // Every acknowledged request is in the engine's view: no 2xx for data that was not stored.
    for (const id of acked.slice(-3)) {
      const p = await fetch(`${s.url}/v1/profiles/${id}`, { headers: auth(s.keys.read) })
      expect(p.status).toBe(200)
      expect(((await p.json()) as { counts: Record<string, number> }).counts.pad).toBe(20)
    }
  })

  it('starts again on a full disk: up and ready, reads answer, ingest 503 until space returns, then 200', async () => {
    await s.close()
    fillDisk(dir)
    s = await startTestServer({ dataDir: join(dir, 'data'), warehouse: false }, RULES)
    expect((await fetch(`${s.url}/readyz`)).status).toBe(200)
    const before = await fetch(`${s.url}/v1/profiles/after`, { headers: auth(s.keys.read) })
    expect(before.status).toBe(200)
    const spins = ((await before.json()) as { counts: Record<string, number> }).counts.spin!
    // The log may still have free pages inside its file: appends that fit there are stored for real.
    const padding = 'x'.repeat(2_000)
    const acked: string[] = []
    let refused: Response | null = null
    for (let i = 0; i < 2_000 && refused === null; i++) {
      const res = await post(Array.from({ length: 20 }, (_, j) => ({ event: 'pad', user_id: `again-${i}`, event_id: `again-${i}-${j}`, ts: Date.now(), padding })))
      if (res.status === 200) acked.push(`again-${i}`)
      else refused = res
    }
    expect(refused?.status).toBe(503)
    expect(((await refused!.json()) as { error: { message: string } }).error.message).toContain('could not write to disk')

    rmSync(ballast)
    let status = 0
    for (const deadline = Date.now() + 10_000; status !== 200 && Date.now() < deadline;) {
      status = (await post([{ event: 'spin', user_id: 'after', ts: Date.now() }])).status
      if (status !== 200) await new Promise((r) => setTimeout(r, 250))
    }
    expect(status).toBe(200)
    let counted = 0
    for (const deadline = Date.now() + 20_000; counted !== spins + 1 && Date.now() < deadline;) {
      const p = await fetch(`${s.url}/v1/profiles/after`, { headers: auth(s.keys.read) })
      counted = ((await p.json()) as { counts: Record<string, number> }).counts.spin ?? 0
      if (counted !== spins + 1) await new Promise((r) => setTimeout(r, 250))
    }
    expect(counted).toBe(spins + 1)
    // Every acknowledged request is in the engine's view (its partition may still be catching up).
    for (const id of acked) {
      let pads: number | undefined
      for (const deadline = Date.now() + 20_000; pads !== 20 && Date.now() < deadline;) {
        const p = await fetch(`${s.url}/v1/profiles/${id}`, { headers: auth(s.keys.read) })
        pads = p.status === 200 ? ((await p.json()) as { counts: Record<string, number> }).counts.pad : undefined
        if (pads !== 20) await new Promise((r) => setTimeout(r, 250))
      }
      expect(pads, id).toBe(20)
    }
  })
})
