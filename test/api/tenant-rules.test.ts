/**
 * Tenants own their segments (docs/tenancy.md), over HTTP on `serve`: a tenant admin's PUT changes
 * its own tenant's rules only, the rules file stays as written, the change survives a restart, and
 * concurrent changes of one server both land. The cross-server conflict and the caps are checked on
 * the change itself, below.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { announceLatest, changeTenantRules, putTenantSegment, RulesConflictError, type RuleChangeContext } from '../../src/engine/tenant-rule-change.ts'
import { TenantRulesView, TENANT_RULE_LIMITS } from '../../src/engine/tenant-rules.ts'
import { decodeRulesRecord } from '../../src/engine/rules-record.ts'
import { TOPICS } from '../../src/log/event-log.ts'
import { parseRulesYaml, RuleError } from '../../src/rules/index.ts'
import { EmbeddedStateStore } from '../../src/state/embedded/state-store.ts'
import type { StateStore } from '../../src/state/state-store.ts'
import { auth, startTestServer, TEST_RULES, type TestServer } from './harness.ts'
import { until } from '../support/until.ts'

const T0 = Date.UTC(2026, 10, 1, 10)
const root = mkdtempSync(join(tmpdir(), 'tagstream-tenant-rules-api-'))
const dir = (name: string) => {
  const d = join(root, name)
  mkdirSync(d, { recursive: true })
  return d
}
afterAll(() => rmSync(root, { recursive: true, force: true }))

interface SegmentList {
  segments: Array<{ name: string; when: string; size: number }>
}

const put = (s: TestServer, key: string, name: string, body: unknown) =>
  fetch(`${s.url}/v1/segments/${name}`, { method: 'PUT', headers: { ...auth(key), 'content-type': 'application/json' }, body: JSON.stringify(body) })
const get = async <T>(s: TestServer, key: string, path: string): Promise<{ status: number; body: T }> => {
  const r = await fetch(`${s.url}${path}`, { headers: auth(key) })
  return { status: r.status, body: (await r.json()) as T }
}
const post = (s: TestServer, key: string, events: unknown[]) =>
  fetch(`${s.url}/v1/events`, { method: 'POST', headers: { ...auth(key), 'content-type': 'application/json' }, body: JSON.stringify(events) })

describe("a tenant's own segments on serve", () => {
  it("change that tenant's rules only, leave the rules file as written, and survive a restart", async () => {
    const dataDir = dir('serve')
    // A rules file with comments: the API must never rewrite it.
    const file = `# the operator's rules\n${TEST_RULES}`
    let s = await startTestServer({ dataDir, clockTickMs: 0 }, file)
    const { acmeAdmin, admin, acme, read } = s.keys
    try {
      // acme lowers the bar of the file's buyer for itself, and adds a whale segment of its own.
      expect((await put(s, acmeAdmin, 'buyer', { when: 'sum(purchase.amount) > 2' })).status).toBe(200)
      const whale = await put(s, acmeAdmin, 'whale', { when: 'sum(purchase.amount) >= 100', description: 'big spenders' })
      expect(whale.status).toBe(200)
      expect(await whale.json()).toEqual({ name: 'whale', when: 'sum(purchase.amount) >= 100', keep: null, description: 'big spenders', size: 0 })
      // Another tenant's admin: its own rules, not acme's.
      expect((await put(s, admin, 'whale', { when: 'sum(purchase.amount) >= 1000' })).status).toBe(200)

      expect(readFileSync(join(dataDir, 'test-segments.yaml'), 'utf8')).toBe(file)
      const acmeList = (await get<SegmentList>(s, acme, '/v1/segments')).body.segments.map((x) => [x.name, x.when])
      expect(acmeList).toEqual([
        ['spinner', 'count(spin, 1h) >= 3'],
        ['buyer', 'sum(purchase.amount) > 2'],
        ['whale', 'sum(purchase.amount) >= 100'],
      ])
      const defaultList = (await get<SegmentList>(s, read, '/v1/segments')).body.segments.map((x) => [x.name, x.when])
      expect(defaultList).toEqual([
        ['spinner', 'count(spin, 1h) >= 3'],
        ['buyer', 'sum(purchase.amount) > 10'],
        ['whale', 'sum(purchase.amount) >= 1000'],
      ])

      // The same purchases in both tenants: each is segmented by its own rules.
      const buys = [
        { event: 'purchase', user_id: 'u1', ts: T0, amount: 5 },
        { event: 'purchase', user_id: 'u2', ts: T0 + 1, amount: 150 },
      ]
      expect((await post(s, acme, buys)).status).toBe(200)
      expect((await post(s, s.keys.write, buys)).status).toBe(200)
      await until('both tenants processed', () => s.ctx.engine.snapshot().processed >= 4)
      const members = async (key: string, segment: string) => (await get<{ members: Array<{ user_id: string }> }>(s, key, `/v1/segments/${segment}/members`)).body.members.map((m) => m.user_id)
      expect(await members(acme, 'buyer')).toEqual(['u1', 'u2'])
      expect(await members(acme, 'whale')).toEqual(['u2'])
      expect(await members(read, 'buyer')).toEqual(['u2'])
      expect(await members(read, 'whale')).toEqual([])
      const profile = (await get<{ segments: Array<{ segment: string }> }>(s, acme, '/v1/profiles/u2')).body
      expect(profile.segments.map((x) => x.segment)).toEqual(['buyer', 'whale'])

      // Every partition read the change at one point of its log: three changes, four partitions.
      let rulesRecords = 0
      for (let p = 0; p < s.ctx.partitions; p++) {
        const { end } = await s.ctx.log.offsets(TOPICS.events, p)
        for (const r of await s.ctx.log.read(TOPICS.events, p, 0, { maxRecords: end })) {
          const b = Buffer.from(r.value)
          if (b[0] === 4 && 'text' in decodeRulesRecord(b, 0, b.length)) rulesRecords++
        }
      }
      expect(rulesRecords).toBe(3 * s.ctx.partitions)
    } finally {
      await s.close()
    }

    s = await startTestServer({ dataDir, clockTickMs: 0, segmentsPath: join(dataDir, 'test-segments.yaml') })
    try {
      const list = (await get<SegmentList>(s, acme, '/v1/segments')).body.segments.map((x) => [x.name, x.size])
      expect(list).toEqual([
        ['spinner', 0],
        ['buyer', 2],
        ['whale', 1],
      ])
      expect((await get<SegmentList>(s, read, '/v1/segments')).body.segments.map((x) => [x.name, x.size])).toEqual([
        ['spinner', 0],
        ['buyer', 1],
        ['whale', 0],
      ])
      // A restart announces nothing again: every partition's checkpoint already runs the latest versions.
      let records = 0
      for (let p = 0; p < s.ctx.partitions; p++) records += (await s.ctx.log.offsets(TOPICS.events, p)).end
      expect(records).toBe(4 + 3 * s.ctx.partitions)
    } finally {
      await s.close()
    }
  })

  it('takes concurrent changes of one tenant one after the other, and refuses what a key may not do', async () => {
    const s = await startTestServer({ dataDir: dir('concurrent'), clockTickMs: 0 })
    try {
      const answers = await Promise.all(['a', 'b', 'c', 'd'].map((name, i) => put(s, s.keys.acmeAdmin, name, { when: `count(spin) > ${i}` })))
      expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 200])
      const names = (await get<SegmentList>(s, s.keys.acme, '/v1/segments')).body.segments.map((x) => x.name)
      expect(names).toEqual(['spinner', 'buyer', 'a', 'b', 'c', 'd'])
      // write+read only: no admin scope.
      const refused = await put(s, s.keys.acme, 'e', { when: 'count(spin) > 9' })
      expect(refused.status).toBe(403)
      expect(((await refused.json()) as { error: { message: string } }).error.message).toContain('the admin scope')
      const traits = await put(s, s.keys.acmeAdmin, 'f', { when: 'undeclared_trait = 1' })
      expect(traits.status).toBe(400)
      // Refused changes do not count; ten stored in a minute do, and the eleventh waits.
      for (const name of ['g', 'h', 'i', 'j', 'k', 'l']) expect((await put(s, s.keys.acmeAdmin, name, { when: 'count(spin) > 0' })).status).toBe(200)
      const limited = await put(s, s.keys.acmeAdmin, 'm', { when: 'count(spin) > 0' })
      expect(limited.status).toBe(429)
      expect(((await limited.json()) as { error: { code: string; message: string } }).error).toMatchObject({
        code: 'rules_rate_limited',
        message: expect.stringContaining('10 times in the last minute'),
      })
      expect((await get<SegmentList>(s, s.keys.acme, '/v1/segments')).body.segments.map((x) => x.name)).not.toContain('m')
      // Another tenant is not held back by acme's changes.
      expect((await put(s, s.keys.admin, 'm', { when: 'count(spin) > 0' })).status).toBe(200)
    } finally {
      await s.close()
    }
  })
})

describe("a tenant's rules as one document", () => {
  it('exports, imports with comments kept, edits one segment in place, removes one, and keeps who did it', async () => {
    const s = await startTestServer({ dataDir: dir('document'), clockTickMs: 0 })
    const { acmeAdmin, acme, read } = s.keys
    try {
      const empty = await get<{ version: number; yaml: string }>(s, acme, '/v1/rules')
      expect(empty.body).toEqual({ tenant: 'acme', version: 0, yaml: '', changed_by: null, changed_at: null, backfill: null })

      const imported =
        '# acme: our own rules\nsegments:\n  # the file says 10; we say 2\n  buyer:\n    when: sum(purchase.amount) > 2\n  whale:\n    when: sum(purchase.amount) >= 100 # big\ntriggers:\n  welcome:\n    on: login\n    emit: inbox\n'
      const putRules = (body: string, key = acmeAdmin, type = 'application/yaml') => fetch(`${s.url}/v1/rules`, { method: 'PUT', headers: { ...auth(key), 'content-type': type }, body })
      const r = await putRules(imported)
      expect(r.status).toBe(200)
      expect(await r.json()).toMatchObject({ tenant: 'acme', version: 1, yaml: imported, changed_by: expect.stringMatching(/^key-[0-9a-f]{12}$/) })
      expect((await get<{ yaml: string }>(s, acme, '/v1/rules')).body.yaml).toBe(imported)

      // One segment changed through the segment route: the rest of the document, comments included, stays.
      expect((await put(s, acmeAdmin, 'whale', { when: 'sum(purchase.amount) >= 500' })).status).toBe(200)
      expect((await get<{ yaml: string }>(s, acme, '/v1/rules')).body.yaml).toBe(imported.replace('>= 100 # big', '>= 500 # big'))

      // A bad import points into the document and changes nothing.
      const bad = await putRules('segments:\n  x:\n    when: count(spin, 2x) > 1\n')
      expect(bad.status).toBe(400)
      expect(((await bad.json()) as { error: { line: number; code: string } }).error).toMatchObject({ code: 'invalid_rule', line: 3 })
      expect((await putRules('traits:\n  t: number\n')).status).toBe(400)
      expect((await putRules('segments: {}\n', acme)).status).toBe(403)

      // Removing its own buyer brings the file's buyer back for acme; the file's spinner is not acme's to remove.
      const del = (name: string, key = acmeAdmin) => fetch(`${s.url}/v1/segments/${name}`, { method: 'DELETE', headers: auth(key) })
      expect((await del('buyer')).status).toBe(204)
      expect((await del('buyer')).status).toBe(404)
      const notOwn = await del('spinner')
      expect(notOwn.status).toBe(404)
      expect(((await notOwn.json()) as { error: { message: string } }).error.message).toContain("the rules file's segments are the operator's")
      const segments = (await get<SegmentList>(s, acme, '/v1/segments')).body.segments.map((x) => [x.name, x.when])
      expect(segments).toEqual([
        ['spinner', 'count(spin, 1h) >= 3'],
        ['buyer', 'sum(purchase.amount) > 10'],
        ['whale', 'sum(purchase.amount) >= 500'],
      ])
      expect((await get<{ yaml: string }>(s, acme, '/v1/rules')).body.yaml).not.toContain('buyer')

      const history = await get<{ versions: Array<{ version: number; changed_by: string }> }>(s, acmeAdmin, '/v1/rules/history')
      expect(history.body.versions.map((v) => v.version)).toEqual([3, 2, 1])
      expect(new Set(history.body.versions.map((v) => v.changed_by)).size).toBe(1)
      expect((await get(s, acme, '/v1/rules/history')).status).toBe(403)
      // The default tenant saw none of it.
      expect((await get<{ version: number }>(s, read, '/v1/rules')).body.version).toBe(0)
    } finally {
      await s.close()
    }
  })
})

describe('a rule change itself', () => {
  const base = parseRulesYaml(TEST_RULES)
  async function context(name: string, wrap: (s: StateStore) => StateStore = (s) => s): Promise<{ c: RuleChangeContext; store: EmbeddedStateStore; appended: number[] }> {
    const store = EmbeddedStateStore.open(join(root, name))
    const appended: number[] = []
    const c: RuleChangeContext = {
      store: wrap(store),
      view: new TenantRulesView(base),
      partitions: 2,
      append: async (partition) => {
        appended.push(partition)
      },
    }
    return { c, store, appended }
  }

  it('refuses a version another server stored meanwhile, and writes and announces nothing', async () => {
    let stale = true
    // A second server stored version 1 between this one's read of the latest and its write.
    const { c, store, appended } = await context('conflict', (s) =>
      Object.assign(Object.create(s) as StateStore, {
        ruleSetHistory: async (tenant: string, limit: number) => {
          if (!stale) return s.ruleSetHistory(tenant, limit)
          stale = false
          await s.addRuleSet({ tenant, version: 1, text: 'segments: {}\n', by: 'other-server', at: 1 })
          return []
        },
      }),
    )
    const change = putTenantSegment(c, 'acme', 'key-1', 'whale', { when: 'count(spin) > 1' })
    await expect(change).rejects.toThrow(RulesConflictError)
    await expect(change).rejects.toThrow('version 1 was taken')
    expect(appended).toEqual([])
    expect((await store.ruleSetHistory('acme', 10)).map((v) => v.by)).toEqual(['other-server'])
    // Read again and retried: it lands as version 2.
    expect((await putTenantSegment(c, 'acme', 'key-1', 'whale', { when: 'count(spin) > 1' })).version).toBe(2)
    expect(appended).toEqual([0, 1])
    await store.close()
  })

  it('announces at start a stored version some partition does not run (a crash between the store and the log), and only that', async () => {
    const { c, store, appended } = await context('announce')
    await store.addRuleSet({ tenant: 'acme', version: 2, text: 'segments:\n  x:\n    when: count(spin) > 1\n', by: 'k', at: 1 })
    await store.addRuleSet({ tenant: 'beta', version: 1, text: 'segments: {}\n', by: 'k', at: 1 })
    // acme's partitions checkpointed version 1 only; beta's already run its latest.
    await announceLatest(c, (tenant) => (tenant === 'acme' ? 1 : 1))
    expect(appended).toEqual([0, 1])
    expect(c.view.own('acme').version).toBe(2)
    expect(c.view.definition('acme').segments.map((x) => x.name)).toEqual(['spinner', 'buyer', 'x'])
    expect(c.view.own('beta').version).toBe(1)
    await store.close()
  })

  it('refuses rule sets over the caps, with the cap in the message, and stores nothing', async () => {
    const { c, store } = await context('caps')
    const many = (n: number) => () => {
      let text = 'segments:\n'
      for (let i = 0; i < n; i++) text += `  s${i}:\n    when: count(spin) > ${i}\n`
      return text
    }
    await expect(changeTenantRules(c, 'acme', 'k', many(TENANT_RULE_LIMITS.maxSegments + 1))).rejects.toThrow(`at most ${TENANT_RULE_LIMITS.maxSegments} segments`)
    const long = () => `segments:\n  x:\n    when: count(spin) > 1\n    description: ${'d'.repeat(70_000)}\n`
    const tooLong = changeTenantRules(c, 'acme', 'k', long)
    await expect(tooLong).rejects.toThrow(RuleError)
    await expect(tooLong).rejects.toThrow(`at most ${TENANT_RULE_LIMITS.maxBytes} bytes`)
    expect(await store.ruleSetHistory('acme', 10)).toEqual([])
    expect((await changeTenantRules(c, 'acme', 'k', many(TENANT_RULE_LIMITS.maxSegments))).version).toBe(1)
    await store.close()
  })
})
