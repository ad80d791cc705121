import { describe, expect, it } from 'vitest'
import { auth, useTestServer } from './harness.ts'

describe('server wiring', () => {
  const s = useTestServer()

  it('starts the engine thread and reports its snapshot', async () => {
    const snap = s.ctx.engine.snapshot()
    expect(snap.ready).toBe(true)
    expect(snap.partitions).toHaveLength(4)
    expect(Object.keys(snap.segmentSizes).sort()).toEqual(['buyer', 'spinner'])
  })

  it('answers unknown routes with a JSON 404', async () => {
    const r = await fetch(`${s.url}/v1/nope`, { headers: auth(s.keys.read) })
    expect(r.status).toBe(404)
    expect(await r.json()).toEqual({ error: { code: 'not_found', message: 'no route GET /v1/nope' } })
  })
})
