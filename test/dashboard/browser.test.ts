import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { chromium, type Browser, type Page } from 'playwright-core'
import { build } from 'vite'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { auth, startTestServer, TEST_RULES, type TestServer } from '../api/harness.ts'
import { predictRun } from '../../src/predict/index.ts'
import { playerHistories } from '../predict/histories.ts'
import { writeEvents } from '../warehouse/fixtures.ts'

// The dashboard in a real browser (Debian's Chromium) against a real server with the warehouse on,
// while events keep arriving over HTTP, as a person would watch a demo.

const ROOT = resolve(import.meta.dirname, '../..')
const ARTIFACTS = join(ROOT, 'test-artifacts')

let s: TestServer
let browser: Browser
let page: Page
let dist: string
let pumping = true
let pump: Promise<void> = Promise.resolve()
let sent = 0
const pageErrors: string[] = []
const foreignRequests: string[] = []

/** What the pixel check reads of a canvas (this project type-checks without the DOM library). */
interface PixelCanvas {
  width: number
  height: number
  getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: ArrayLike<number> } } | null
}

async function post(events: unknown[]): Promise<void> {
  const res = await fetch(`${s.url}/v1/events`, { method: 'POST', headers: { ...auth(s.keys.write), 'content-type': 'application/json' }, body: JSON.stringify(events) })
  if (res.status >= 300) throw new Error(`POST /v1/events: ${res.status} ${await res.text()}`)
}

/** Steady traffic: 40 players spinning, some buying, a bad event now and then. */
async function runPump(): Promise<void> {
  let round = 0
  while (pumping) {
    const ts = Date.now()
    const batch: unknown[] = []
    for (let i = 0; i < 40; i++) {
      batch.push({ event: 'spin', user_id: `player-${i}`, ts, bet: 1 + (i % 5), country: i % 2 === 0 ? 'TR' : 'DE' })
      if ((i + round) % 7 === 0) batch.push({ event: 'purchase', user_id: `player-${i}`, ts, amount: 4.99, item: 'sword', kind: 'weapon' })
    }
    if (round % 5 === 0) batch.push({ event: 'spin', user_id: 'player-x', ts: 'not a time' })
    await post(batch)
    sent += batch.length
    round++
    await new Promise((r) => setTimeout(r, 200))
  }
}

async function until<T>(what: string, get: () => Promise<T>, ok: (v: T) => boolean, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const v = await get()
    if (ok(v)) return v
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(v).slice(0, 300)}`)
    await new Promise((r) => setTimeout(r, 250))
  }
}

beforeAll(async () => {
  // The bundle under test is built from the current sources, into a directory of its own.
  dist = mkdtempSync(join(tmpdir(), 'tagstream-dist-'))
  await build({ configFile: join(ROOT, 'web/vite.config.ts'), logLevel: 'warn', build: { outDir: dist, emptyOutDir: true } })
  // One declared trait (docs/segments.md, "Custom traits"), shown after the built-in ones.
  s = await startTestServer({ webDir: dist }, `${TEST_RULES}traits:\n  last_bet: { type: number, from: spin, property: bet }\n`)
  pump = runPump()
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] })
  page = await browser.newPage({ viewport: { width: 1400, height: 1000 } })
  page.on('pageerror', (err) => pageErrors.push(err.message))
  page.on('console', (m) => {
    if (m.type() === 'error') pageErrors.push(m.text())
  })
  page.on('request', (r) => {
    if (!r.url().startsWith(s.url) && !r.url().startsWith('data:')) foreignRequests.push(r.url())
  })
  mkdirSync(ARTIFACTS, { recursive: true })
}, 120_000)

afterAll(async () => {
  pumping = false
  await pump.catch(() => undefined)
  await browser?.close()
  await s?.close()
  if (dist) rmSync(dist, { recursive: true, force: true })
})

describe('dashboard in a browser', () => {
  it('takes the key from the URL fragment, keeps it, and removes it from the address bar', async () => {
    await page.goto(`${s.url}/#key=${s.keys.operator}`)
    await page.waitForSelector('[data-testid=events-per-sec]')
    expect(new URL(page.url()).hash).toBe('#/live')
    expect(await page.evaluate("localStorage.getItem('tagstream.key')")).toBe(s.keys.operator)
  })

  it('live: the events/s number moves while events arrive, pushed by the server', async () => {
    const read = () => page.locator('[data-testid=events-per-sec]').innerText()
    const first = await until('a first events/s value', read, (t) => t !== '–' && t !== '', 15_000)
    const changed = await until('events/s to change', read, (t) => t !== first, 15_000)
    expect(Number(changed.replace(/,/g, ''))).toBeGreaterThan(0)
    // Rejections are counted too (every fifth batch carries a bad event).
    await until(
      'rejected since start',
      () => page.locator('[data-testid=rejected-per-sec] + .sub').innerText(),
      (t) => !/· 0 since start/.test(t),
      15_000,
    )
    expect(await page.locator('[data-testid=lag-partitions] .bar-row').count()).toBe(4)
    expect(await page.locator('[data-testid=live-status]').innerText()).toMatch(/^live · updated/)
    expect(Number(await page.locator('[data-testid=rate-chart]').getAttribute('data-points'))).toBeGreaterThan(1)
  })

  it('profiles: a user is found and the profile shows traits, segments, metrics and recent events', async () => {
    await page.click('nav.tabs a[data-page=profiles]')
    await page.fill('[data-testid=user-id]', 'player-3')
    await page.click('[data-testid=open-user]')
    await page.waitForSelector('[data-testid=traits]')
    expect(new URL(page.url()).hash).toBe('#/profiles/player-3')
    const traits = await page.locator('[data-testid=traits]').innerText()
    expect(traits).toMatch(/event_count\s+\d+/)
    expect(traits).toMatch(/country\s+DE/)
    expect(traits).toMatch(/last_bet\s+4/)
    // player-3 spins five times a second: in `spinner` (count(spin, 1h) >= 3) within a second or two.
    await until(
      'player-3 in spinner',
      () => page.locator('[data-testid=profile-segments]').innerText(),
      (t) => t.includes('spinner'),
      15_000,
    )
    expect(await page.locator('[data-testid=profile-segments]').innerText()).toMatch(/spinner since \d{4}-\d\d-\d\d/)
    expect(Number(await page.locator('[data-testid=metrics-chart]').getAttribute('data-points'))).toBeGreaterThan(0)
    expect(await page.locator('[data-testid=recent-events] tbody tr').count()).toBeGreaterThan(0)
    expect(await page.locator('[data-testid=recent-events]').innerText()).toContain('spin')
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-profile.png'), fullPage: true })

    // An unknown user says so instead of failing silently.
    await page.goto(`${s.url}/#/profiles/nobody-here`)
    await expect.poll(() => page.locator('[data-testid=profile-error]').innerText(), { timeout: 10_000 }).toContain('No profile for user "nobody-here"')
  })

  it('profiles: a search by segment and trait lists matching users', async () => {
    await page.goto(`${s.url}/#/profiles`)
    await page.waitForSelector('[data-testid=search-segment] option[value=spinner]', { state: 'attached' })
    await page.selectOption('[data-testid=search-segment]', 'spinner')
    await page.fill('[data-testid=search-where]', 'country:TR')
    await page.click('[data-testid=search-results] >> xpath=.. >> button[type=submit]')
    await page.waitForSelector('[data-testid=search-results] table')
    const text = await page.locator('[data-testid=search-results]').innerText()
    expect(text).toContain('player-0')
    expect(text).not.toContain('player-1\t')
    await page.fill('[data-testid=search-where]', 'colour:red')
    await page.click('[data-testid=search-results] >> xpath=.. >> button[type=submit]')
    await expect.poll(() => page.locator('[data-testid=search-error]').innerText(), { timeout: 5_000 }).toContain('unknown trait "colour"')
  })

  it('reports: a warehouse report renders as a chart with data, and the SQL box answers', async () => {
    // The sink writes Parquet every few seconds: wait until the report has rows.
    await until(
      'popular_events to have rows',
      async () => ((await (await fetch(`${s.url}/v1/reports/popular_events`, { headers: auth(s.keys.read) })).json()) as { rows: unknown[] }).rows.length,
      (n) => n > 0,
      30_000,
    )
    await page.goto(`${s.url}/#/reports/popular_events`)
    const canvas = page.locator('[data-testid=report-chart] canvas')
    await canvas.waitFor({ timeout: 15_000 })
    expect(Number(await page.locator('[data-testid=report-chart]').getAttribute('data-points'))).toBeGreaterThan(0)
    // Bars were drawn: the canvas holds painted pixels in the report's colour.
    const painted = await canvas.evaluate((el) => {
      const c = el as unknown as PixelCanvas
      const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data
      let n = 0
      for (let i = 0; i < d.length; i += 4) if (d[i + 3]! > 0 && d[i]! < 60 && d[i + 2]! > 120) n++
      return n
    })
    expect(painted).toBeGreaterThan(200)
    expect(await page.locator('[data-testid=report-table]').innerText()).toMatch(/spin\s+[\d,]+/)
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-reports.png'), fullPage: true })

    await page.fill('[data-testid=sql]', "SELECT user_id, count(*) AS spins FROM events WHERE event = 'spin' GROUP BY 1 ORDER BY 2 DESC LIMIT 5")
    await page.click('[data-testid=sql-run]')
    await page.waitForSelector('[data-testid=sql-table] tbody tr')
    expect(await page.locator('[data-testid=sql-table] tbody tr').count()).toBe(5)
    await page.fill('[data-testid=sql]', 'DROP TABLE events')
    await page.click('[data-testid=sql-run]')
    await expect.poll(() => page.locator('[data-testid=sql-error]').innerText(), { timeout: 5_000 }).toContain('only SELECT and WITH queries are allowed')
  })

  it("predictions: the newest run's models against their baselines, with calibration charts", async () => {
    await page.goto(`${s.url}/#/predictions`)
    await page.waitForSelector('[data-testid=no-runs]', { timeout: 10_000 })
    // A real training run over histories with planted signal, recorded in the server's data directory.
    const wh = mkdtempSync(join(tmpdir(), 'tagstream-pred-wh-'))
    try {
      await writeEvents(wh, playerHistories({ users: 400, days: 50, endDay: 20_400, seed: 5 }))
      const r = await predictRun({ dataDir: s.dataDir, warehouseRoot: wh, kind: 'train', asOfMs: 20_400 * 86_400_000, options: { maxTrainRows: 5_000 } })
      expect(r.status).toBe('succeeded')
    } finally {
      rmSync(wh, { recursive: true, force: true })
    }
    await page.goto(`${s.url}/#/reports`)
    await page.goto(`${s.url}/#/predictions`)
    await page.waitForSelector('[data-testid=model-churn_7d]', { timeout: 10_000 })
    expect(await page.locator('[data-testid=status-churn_7d]').innerText()).toBe('published')
    expect(await page.locator('[data-testid=model-purchase_7d]').innerText()).toMatch(/ROC AUC\s+0\.\d{4}\s+0\.\d{4}/)
    expect(await page.locator('[data-testid=model-wealth_30d]').innerText()).toMatch(/MAE\s+[\d.]+\s+[\d.]+/)
    for (const m of ['purchase_7d', 'churn_7d', 'wealth_30d']) {
      await page.locator(`[data-testid=calibration-${m}] canvas`).waitFor({ timeout: 10_000 })
      expect(await page.locator(`[data-testid=calibration-${m}]`).getAttribute('data-points')).toBe('10')
    }
    expect(await page.locator('[data-testid=runs-table] tbody tr').count()).toBe(1)
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-predictions.png'), fullPage: true })
  })

  it('segments: a bad rule shows its line and column in place; a good one is saved and listed', async () => {
    await page.goto(`${s.url}/#/segments`)
    await page.waitForSelector('[data-testid=segment-row]')
    await page.fill('[data-testid=rule-name]', 'big_spender')
    await page.fill('[data-testid=rule-when]', 'count(spin, 1h) >= 3 and\n  sum(purchase.amount, 2x) > 1')
    const error = page.locator('[data-testid=rule-error]')
    await error.waitFor({ state: 'visible', timeout: 10_000 })
    const expected = (await (
      await fetch(`${s.url}/v1/dashboard/segments/big_spender/validate`, {
        method: 'POST',
        headers: { ...auth(s.keys.read), 'content-type': 'application/json' },
        body: JSON.stringify({ when: 'count(spin, 1h) >= 3 and\n  sum(purchase.amount, 2x) > 1' }),
      })
    ).json()) as { error: { line: number; column: number; message: string } }
    expect(expected.error.line).toBe(2)
    const text = await error.innerText()
    expect(text).toContain(expected.error.message)
    expect(text).toContain(`go to line 2, column ${expected.error.column}`)
    // The caret sits under the column the server named.
    const excerpt = await error.locator('.excerpt').innerText()
    const [line, caret] = excerpt.split('\n')
    expect(line).toBe('  sum(purchase.amount, 2x) > 1')
    expect(caret!.indexOf('^')).toBe(expected.error.column - 1)
    expect(await page.getAttribute('[data-testid=rule-when]', 'aria-invalid')).toBe('true')
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-segments.png'), fullPage: true })

    await page.fill('[data-testid=rule-when]', 'count(spin, 1h) >= 3 and\n  sum(purchase.amount, 2h) > 1')
    await expect.poll(() => page.locator('[data-testid=rule-status]').innerText(), { timeout: 10_000 }).toMatch(/^valid/)
    expect(await error.isHidden()).toBe(true)
    await page.click('[data-testid=rule-save]')
    await expect.poll(() => page.locator('[data-testid=rule-status]').innerText(), { timeout: 10_000 }).toBe('saved big_spender')
    await page.locator('[data-testid=segment-row]', { hasText: 'big_spender' }).waitFor()
    const segments = (await (await fetch(`${s.url}/v1/segments`, { headers: auth(s.keys.read) })).json()) as { segments: Array<{ name: string }> }
    expect(segments.segments.map((x) => x.name)).toContain('big_spender')
    // Its new aggregate (sum over 2h) was filled from the tenant's history, and the page says so.
    await expect.poll(() => page.locator('[data-testid=backfill-status]').innerText(), { timeout: 10_000 }).toMatch(/^New segments of rules version \d+ filled from history in [\d.]+ s: [\d,]+ users/)
    // Its members appear in the live sizes as buyers keep spinning.
    await until(
      'big_spender members',
      () => page.locator('[data-testid=size-big_spender]').innerText(),
      (t) => Number(t.replace(/,/g, '')) > 0,
      15_000,
    )
    // Entries arrive in the feed as they happen.
    await until(
      'the feed to show entries',
      () => page.locator('[data-testid=change-feed] li.entered').count(),
      (n) => n > 0,
      15_000,
    )
    expect(Number(await page.locator('[data-testid=sizes-chart]').getAttribute('data-points'))).toBeGreaterThan(0)
  })

  it('a refused key brings back the key box with the reason', async () => {
    await page.goto(`${s.url}/#key=not-a-key`)
    await expect.poll(() => page.locator('[data-testid=key-error]').innerText(), { timeout: 10_000 }).toContain('unknown API key')
    await page.fill('[data-testid=key-input]', s.keys.read)
    await page.click('[data-testid=key-box] button[type=submit]')
    await page.waitForSelector('[data-testid=events-per-sec]')
  })

  it('after a while of traffic, the live page is kept as the screenshot artifact', async () => {
    await page.goto(`${s.url}/#/live`)
    await until(
      'a few samples',
      async () => Number(await page.locator('[data-testid=rate-chart]').getAttribute('data-points')),
      (n) => n >= 10,
      15_000,
    )
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard.png'), fullPage: true })
  })

  it('loaded nothing from outside the server and raised no script error', () => {
    expect(sent).toBeGreaterThan(0)
    expect(foreignRequests).toEqual([])
    // The 4xx answers the tests provoke (an unknown user, a bad rule, a refused key) are logged
    // by the browser as failed resources: expected. Anything else is a script error.
    expect(pageErrors.filter((e) => !/^Failed to load resource: the server responded with a status of 4\d\d/.test(e))).toEqual([])
  })
})
