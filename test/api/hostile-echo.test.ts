import { describe, expect, it } from 'vitest'
import { appendDeadLetters } from '../../src/ingest/dead-letters.ts'
import { auth, useTestServer } from './harness.ts'

/*
 * Issue 15, item 7: client input is never echoed or stored unbounded. A huge property name gives a
 * small answer and a small dead-letter `field`; its bytes stay whole in raw_base64. Dead letters
 * already stored with huge fields (written before these bounds) do not make the listing fail.
 */

interface Rejected {
  index: number
  error: string
  field: string
}

describe('echoed input', () => {
  const s = useTestServer()
  const NAME = 'k'.repeat(3_000_000)
  const body = `[{"event":"spin","user_id":"u1","${NAME}":1}]`

  it('bounds the error and field of a rejected event; the dead letter keeps the bytes', async () => {
    const res = await fetch(`${s.url}/v1/events`, { method: 'POST', headers: { ...auth(s.keys.write), 'content-type': 'application/json' }, body })
    const text = await res.text()
    expect(res.status).toBe(200)
    expect(text.length).toBeLessThan(8_000)
    const rejected = (JSON.parse(text) as { rejected: Rejected[] }).rejected[0]!
    expect(rejected.field).toMatch(/^k{256}… \(3000000 chars\)$/)
    expect(rejected.error).toContain('property name longer than')

    const track = await fetch(`${s.url}/v1/track`, { method: 'POST', headers: { ...auth(s.keys.write), 'content-type': 'application/json' }, body: body.slice(1, -1) })
    const trackText = await track.text()
    expect(track.status).toBe(400)
    expect(trackText.length).toBeLessThan(8_000)

    const list = await fetch(`${s.url}/v1/dead-letters?limit=1`, { headers: auth(s.keys.read) })
    const page = (await list.json()) as { dead_letters: Array<{ field: string; reason: string; raw?: string; raw_truncated?: boolean; raw_bytes?: number }> }
    const letter = page.dead_letters[0]!
    expect(letter.field).toMatch(/^k{256}… \(3000000 chars\)$/)
    expect(letter.raw_truncated).toBe(true)
    expect(letter.raw_bytes).toBe(body.length - 2)
  })

  it('GET /v1/dead-letters answers 200 with bounded items over letters stored with huge fields', async () => {
    // 28 letters with a 20-million-character field: half a billion characters, past V8's string limit
    // for one page (the old code answered 500 "Invalid string length").
    const huge = 'f'.repeat(20_000_000)
    for (let i = 0; i < 28; i++) {
      await appendDeadLetters(
        s.ctx.log,
        [{ tenant: 'acme', source: 'http', received_at: Date.now(), index: i, field: huge, reason: 'old letter', raw_base64: Buffer.from('{}').toString('base64') }],
        s.ctx.partitions,
      )
    }
    let items = 0
    let cursor: string | null = null
    do {
      const res: Response = await fetch(`${s.url}/v1/dead-letters?limit=1000${cursor === null ? '' : `&cursor=${cursor}`}`, { headers: auth(s.keys.acme) })
      const text = await res.text()
      expect(res.status).toBe(200)
      expect(text.length).toBeLessThan(5 * 1024 * 1024)
      const page = JSON.parse(text) as { dead_letters: Array<{ field: string }>; next: string | null }
      for (const d of page.dead_letters) expect(d.field).toMatch(/^f{256}… \(20000000 chars\)$/)
      items += page.dead_letters.length
      cursor = page.next
    } while (cursor !== null)
    expect(items).toBe(28)
  }, 60_000)
})
