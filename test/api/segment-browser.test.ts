import { readFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { chromium, type Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { auth, logEvents, rawGet, startTestServer, type TestServer } from './harness.ts'

// Issue 18, item 2: Segment's browser library, @segment/analytics-next from npm, unchanged, in Debian's
// Chromium on a page of another origin, loaded with its cdnURL pointed at tagstream: it fetches the
// settings document from tagstream, then posts its calls there (CORS preflight included, since it
// sends the write key as HTTP Basic). Buttons on the page identify and track; the profile shows them.

const RULES = `traits:
  plan: string
segments:
  buyer:
    when: sum(purchase.amount) > 10
`

const BUNDLE = join(dirname(createRequire(import.meta.url).resolve('@segment/analytics-next/package.json')), 'dist/umd/index.js')

interface ProfileSeen {
  traits: Record<string, unknown>
  counts: Record<string, number>
  segments: Array<{ segment: string }>
}

function page(tagstream: string, writeKey: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>shop</title>
<script src="/analytics.js"></script>
<script>
  // ?batching: the library's batching mode, which posts {"batch": [...]} to /v1/b (here once 3 calls wait: the timeout is long).
  const batching = location.search === '?batching'
  const options = batching ? { integrations: { 'Segment.io': { deliveryStrategy: { strategy: 'batching', config: { size: 3, timeout: 10000 } } } } } : {}
  window.user = batching ? 'bob' : 'alice'
  window.analytics = AnalyticsNext.AnalyticsBrowser.load({ writeKey: ${JSON.stringify(writeKey)}, cdnURL: ${JSON.stringify(tagstream)} }, options)
  window.sent = 0
  async function run(call) { await call(); window.sent++ }
</script></head><body>
<button id="login" onclick="run(() => analytics.identify(window.user, { plan: 'pro' }))">log in</button>
<button id="buy" onclick="run(() => analytics.track('purchase', { amount: 12.5, item: 'sword' }))">buy</button>
<button id="look" onclick="run(() => analytics.page('Shop', 'Sword'))">look</button>
</body></html>`
}

describe('@segment/analytics-next in Chromium', () => {
  let s: TestServer
  let site: Server
  let siteUrl = ''
  let browser: Browser

  beforeAll(async () => {
    s = await startTestServer({}, RULES)
    const html = page(s.url, s.keys.write)
    const bundle = readFileSync(BUNDLE)
    site = createServer((req, res) => {
      if (req.url === '/analytics.js') res.writeHead(200, { 'content-type': 'text/javascript' }).end(bundle)
      else if (req.url === '/' || req.url === '/?batching') res.writeHead(200, { 'content-type': 'text/html' }).end(html)
      // The browser asks for one on its own; a 404 would show as a console error.
      else if (req.url === '/favicon.ico') res.writeHead(204).end()
      else res.writeHead(404).end()
    })
    await new Promise<void>((r) => site.listen(0, '127.0.0.1', r))
    // Another origin than the server's: another port (and "localhost" rather than 127.0.0.1).
    siteUrl = `http://localhost:${(site.address() as AddressInfo).port}`
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] })
  }, 60_000)

  afterAll(async () => {
    await browser?.close()
    await new Promise((r) => site?.close(r))
    await s?.close()
  })

  it('loads its settings from tagstream, and its identify, track and page reach the profile', async () => {
    const p = await browser.newPage()
    const requests: string[] = []
    const failures: string[] = []
    p.on('request', (r) => requests.push(`${r.method()} ${r.url()}`))
    p.on('requestfailed', (r) => failures.push(`${r.method()} ${r.url()}: ${r.failure()?.errorText ?? ''}`))
    p.on('response', (r) => {
      if (r.status() >= 400) failures.push(`${r.request().method()} ${r.url()}: ${r.status()}`)
    })
    p.on('console', (m) => {
      if (m.type() === 'error') failures.push(m.text())
    })
    await p.goto(siteUrl)
    for (const button of ['#login', '#buy', '#look']) await p.click(button)
    await p.waitForFunction('window.sent === 3', null, { timeout: 15_000 })

    let profile: ProfileSeen | null = null
    for (let i = 0; i < 200 && (profile === null || profile.traits.event_count !== 3); i++) {
      const res = await fetch(`${s.url}/v1/profiles/alice`, { headers: auth(s.keys.read) })
      if (res.status === 200) profile = (await res.json()) as ProfileSeen
      else await new Promise((r) => setTimeout(r, 50))
    }
    expect(profile?.traits).toMatchObject({ event_count: 3, total_purchases: 12.5, plan: 'pro' })
    expect(profile?.counts).toEqual({ identify: 1, purchase: 1, page: 1 })
    expect(profile?.segments.map((x) => x.segment)).toEqual(['buyer'])

    // The library's own anonymous id came along, and the page's context.
    const events = (await logEvents(s)).filter((e) => e.user_id === 'alice')
    expect(new Set(events.map((e) => e.anonymous_id)).size).toBe(1)
    expect(events[0]!.anonymous_id).toMatch(/^[0-9a-f-]{36}$/)
    const pageEvent = events.find((e) => e.event === 'page')!
    expect(pageEvent.properties).toMatchObject({ name: 'Sword', category: 'Shop' })
    expect((pageEvent.properties.context as { page: { url: string } }).page.url).toBe(`${siteUrl}/`)

    // Everything went to the page's own server or to tagstream, nothing to Segment or elsewhere.
    const tagstream = requests.filter((r) => r.includes(s.url))
    expect(tagstream).toContain(`GET ${s.url}/v1/projects/${s.keys.write}/settings`)
    expect(tagstream.filter((r) => r.startsWith('POST'))).toEqual([`POST ${s.url}/v1/i`, `POST ${s.url}/v1/t`, `POST ${s.url}/v1/p`])
    expect(requests.filter((r) => !r.includes(s.url) && !r.includes(siteUrl))).toEqual([])
    expect(failures).toEqual([])
    await p.close()
  })

  it('in its batching mode, posts the three calls as one batch to /v1/b', async () => {
    const p = await browser.newPage()
    const posts: string[] = []
    p.on('request', (r) => {
      if (r.method() === 'POST') posts.push(r.url())
    })
    await p.goto(`${siteUrl}/?batching`)
    for (const button of ['#login', '#buy', '#look']) await p.click(button)
    let profile: ProfileSeen | null = null
    for (let i = 0; i < 200 && profile?.traits.event_count !== 3; i++) {
      const res = await fetch(`${s.url}/v1/profiles/bob`, { headers: auth(s.keys.read) })
      if (res.status === 200) profile = (await res.json()) as ProfileSeen
      await new Promise((r) => setTimeout(r, 50))
    }
    expect(profile?.traits).toMatchObject({ event_count: 3, total_purchases: 12.5, plan: 'pro' })
    expect(posts).toEqual([`${s.url}/v1/b`])
    await p.close()
  })

  it('answers the preflight and the settings document as a browser and a careless page need', async () => {
    const pre = await fetch(`${s.url}/v1/t`, {
      method: 'OPTIONS',
      headers: { origin: siteUrl, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
    })
    expect(pre.status).toBe(204)
    expect(pre.headers.get('access-control-allow-origin')).toBe('*')
    expect(pre.headers.get('access-control-allow-headers')).toContain('Authorization')
    expect(pre.headers.get('access-control-allow-methods')).toContain('POST')
    // A refused post still carries CORS, so the page can read why.
    const refused = await fetch(`${s.url}/v1/t`, { method: 'POST', headers: { origin: siteUrl }, body: '{}' })
    expect(refused.status).toBe(401)
    expect(refused.headers.get('access-control-allow-origin')).toBe('*')

    const settings = await fetch(`${s.url}/v1/projects/${s.keys.write}/settings`)
    expect(settings.status).toBe(200)
    const doc = (await settings.json()) as { integrations: Record<string, { apiHost: string; protocol: string }> }
    expect(doc.integrations['Segment.io']).toEqual({ apiKey: s.keys.write, apiHost: `${new URL(s.url).host}/v1`, protocol: 'http' })
    // A key that may not write, or none we know, gets the same 404.
    for (const key of [s.keys.read, 'nope']) expect((await fetch(`${s.url}/v1/projects/${key}/settings`)).status).toBe(404)
    // The Host header is written into the document: anything but host[:port] is refused.
    const badHost = await rawGet(`${s.url}/v1/projects/${s.keys.write}/settings`, { host: 'evil.example/"><script>' })
    expect(badHost.status).toBe(400)
    expect(JSON.parse(badHost.body)).toMatchObject({ error: { code: 'invalid_host' } })
  })
})
