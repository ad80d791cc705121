import { Analytics } from '@segment/analytics-node'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { auth, startTestServer, type TestServer } from './harness.ts'

// Issue 18, item 3: identify traits and chosen event/context fields become typed profile traits,
// declared in the rules file; shown in the profile API, searchable, usable in rules, kept across a
// restart. Sent with the official Segment SDK.

const RULES = `# Seed 004's partner fields, declared so rules and searches can use them.
traits:
  plan: string
  partner_name: { type: string, from: [identify, page], description: the partner who brought the user }
  age: number
  campaign: { type: string, property: context.campaign.name }
  lifetime_value: { compute: sum(purchase.amount) }
segments:
  acme_pro:
    when: partner_name = "acme" and plan = "pro"
  valuable:
    when: lifetime_value >= 20
`

interface Profile {
  traits: Record<string, string | number | boolean | null>
  segments: Array<{ segment: string }>
}

async function get<T>(s: TestServer, path: string): Promise<{ status: number; body: T }> {
  const res = await fetch(`${s.url}${path}`, { headers: auth(s.keys.read) })
  return { status: res.status, body: (await res.json()) as T }
}

async function profileWhen(s: TestServer, id: string, ok: (p: Profile) => boolean): Promise<Profile> {
  let last: unknown = null
  for (let i = 0; i < 200; i++) {
    const r = await get<Profile>(s, `/v1/profiles/${id}`)
    last = r.body
    if (r.status === 200 && ok(r.body)) return r.body
    await new Promise((res) => setTimeout(res, 50))
  }
  throw new Error(`profile ${id} never matched: ${JSON.stringify(last)}`)
}

describe('custom traits over HTTP', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'tagstream-traits-'))
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }))

  it('identify traits and context fields land on the profile, in searches and in segments, and survive a restart', async () => {
    let s = await startTestServer({ dataDir }, RULES)
    try {
      const analytics = new Analytics({ writeKey: s.keys.write, host: s.url, flushAt: 20, maxRetries: 0 })
      const t0 = Date.now() - 60_000
      analytics.identify({ userId: 'alice', traits: { plan: 'pro', partner_name: 'acme', age: 34 }, timestamp: new Date(t0) })
      analytics.track({ userId: 'alice', event: 'purchase', properties: { amount: 12.5 }, context: { campaign: { name: 'winter', source: 'mail', medium: 'email' } }, timestamp: new Date(t0 + 1000) })
      analytics.track({ userId: 'alice', event: 'purchase', properties: { amount: 8 }, timestamp: new Date(t0 + 2000) })
      // Segment's types say age is a number; clients send what they have.
      const age = 'unknown' as unknown as number
      analytics.identify({ userId: 'bob', traits: { plan: 'free', partner_name: 'globex', age }, timestamp: new Date(t0) })
      // A later page of bob's names another partner; an earlier identify (sent last) does not win.
      analytics.page({ userId: 'bob', name: 'Pricing', properties: { partner_name: 'acme' }, timestamp: new Date(t0 + 5000) })
      analytics.identify({ userId: 'bob', traits: { partner_name: 'initech' }, timestamp: new Date(t0 + 3000) })
      await analytics.closeAndFlush()

      const alice = await profileWhen(s, 'alice', (p) => p.traits.lifetime_value === 20.5)
      expect(alice.traits).toMatchObject({ plan: 'pro', partner_name: 'acme', age: 34, campaign: 'winter', lifetime_value: 20.5 })
      expect(alice.segments.map((x) => x.segment).sort()).toEqual(['acme_pro', 'valuable'])
      const bob = await profileWhen(s, 'bob', (p) => p.traits.partner_name === 'acme')
      // "unknown" is not a number: age stays unset.
      expect(bob.traits).toMatchObject({ plan: 'free', partner_name: 'acme', age: null, campaign: null, lifetime_value: 0 })
      expect(bob.segments).toEqual([])

      const traits = await get<{ traits: Array<{ name: string; kind: string; type: string }> }>(s, '/v1/traits')
      expect(traits.status).toBe(200)
      expect(traits.body.traits.filter((t) => t.kind !== 'builtin')).toEqual([
        { name: 'plan', type: 'string', kind: 'property', description: null, from: null, property: 'plan' },
        { name: 'partner_name', type: 'string', kind: 'property', description: 'the partner who brought the user', from: ['identify', 'page'], property: 'partner_name' },
        { name: 'age', type: 'number', kind: 'property', description: null, from: null, property: 'age' },
        { name: 'campaign', type: 'string', kind: 'property', description: null, from: null, property: 'context.campaign.name' },
        { name: 'lifetime_value', type: 'number', kind: 'computed', description: null, compute: 'sum(purchase.amount)' },
      ])

      const ids = async (q: string) => (await get<{ profiles: Array<{ user_id: string }> }>(s, `/v1/profiles?${q}`)).body.profiles.map((p) => p.user_id)
      expect(await ids('partner_name=acme')).toEqual(['alice', 'bob'])
      expect(await ids('plan=pro&age>30')).toEqual(['alice'])
      expect(await ids('where=lifetime_value>=20')).toEqual(['alice'])
      const bad = await get<{ error: { message: string } }>(s, '/v1/profiles?partner=acme')
      expect(bad.status).toBe(400)
      expect(bad.body.error.message).toContain('unknown trait "partner"; known traits: first_seen,')
      expect(bad.body.error.message).toContain('plan, partner_name, age, campaign, lifetime_value')
      const wrongType = await get<{ error: { message: string } }>(s, '/v1/profiles?age=old')
      expect(wrongType.body.error.message).toBe('age compares with a number, got "old"')

      const fileBefore = readFileSync(join(dataDir, 'test-segments.yaml'), 'utf8')
      // A segment added at run time can name a declared trait; an undeclared one is refused.
      const put = (when: string) => fetch(`${s.url}/v1/segments/teen`, { method: 'PUT', headers: { ...auth(s.keys.operator), 'content-type': 'application/json' }, body: JSON.stringify({ when }) })
      // The dashboard's rule editor checks against the same declared traits.
      const validate = (when: string) =>
        fetch(`${s.url}/v1/dashboard/segments/teen/validate`, { method: 'POST', headers: { ...auth(s.keys.read), 'content-type': 'application/json' }, body: JSON.stringify({ when }) })
      const ok = await validate('lifetime_value > 5 and count(login, 1d) > 0 and partner_name = "acme"')
      expect(await ok.json()).toEqual({ valid: true, metrics: ['sum(purchase.amount)', 'count(login, 1d)'] })
      expect((await validate('tier = "free"')).status).toBe(400)
      const teen = await put('age < 20 and plan = "free"')
      expect(teen.status, await teen.clone().text()).toBe(200)
      expect((await put('age < 20 and tier = "free"')).status).toBe(400)
      // The segment is the tenant's own (docs/tenancy.md): the rules file is the operator's and stays as written.
      expect(readFileSync(join(dataDir, 'test-segments.yaml'), 'utf8')).toBe(fileBefore)
      expect((await get<{ segments: Array<{ name: string }> }>(s, '/v1/segments')).body.segments.map((x) => x.name)).toContain('teen')
    } finally {
      await s.close()
    }

    s = await startTestServer({ dataDir, segmentsPath: join(dataDir, 'test-segments.yaml') })
    try {
      const alice = await profileWhen(s, 'alice', () => true)
      expect(alice.traits).toMatchObject({ plan: 'pro', partner_name: 'acme', age: 34, campaign: 'winter', lifetime_value: 20.5 })
      // The tenant's own segment is kept in the state store, not the file: it is still there.
      expect((await get<{ segments: Array<{ name: string; when: string }> }>(s, '/v1/segments')).body.segments).toContainEqual(
        expect.objectContaining({ name: 'teen', when: 'age < 20 and plan = "free"' }),
      )
    } finally {
      await s.close()
    }
  })
})
