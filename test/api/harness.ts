import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { afterAll, beforeAll } from 'vitest'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { defaultConfig, type ServerConfig } from '../../src/api/config.ts'
import type { ApiContext } from '../../src/api/context.ts'
import { startServer, type RunningServer } from '../../src/api/server.ts'
import { createLogger } from '../../src/logger.ts'
import { decodeEvent, isEngineRecord, type TrackedEvent } from '../../src/events/index.ts'
import { TOPICS } from '../../src/log/event-log.ts'

export interface TestServer {
  url: string
  keys: { write: string; read: string; admin: string; operator: string; acme: string; acmeAdmin: string }
  dataDir: string
  ctx: ApiContext
  server: RunningServer
  close(): Promise<void>
}

export const TEST_KEYS = { write: 'test-write', read: 'test-read', admin: 'test-admin', operator: 'test-operator', acme: 'test-acme', acmeAdmin: 'test-acme-admin' }

/** Rules most API tests use: a spin counter segment and an add_to_cart trigger. */
export const TEST_RULES = `segments:
  spinner:
    when: count(spin, 1h) >= 3
  buyer:
    when: sum(purchase.amount) > 10
triggers:
  cart_push:
    on: add_to_cart
`

/**
 * The real server (embedded log, engine thread, HTTP on a random port) in a fresh temp directory.
 * `rules` writes a segments file unless `overrides.segmentsPath` is given.
 */
export async function startTestServer(overrides: Partial<ServerConfig> = {}, rules: string = TEST_RULES): Promise<TestServer> {
  const dataDir = overrides.dataDir ?? mkdtempSync(join(tmpdir(), 'tagstream-api-'))
  let segmentsPath = overrides.segmentsPath ?? null
  if (segmentsPath === null) {
    segmentsPath = join(dataDir, 'test-segments.yaml')
    writeFileSync(segmentsPath, rules)
  }
  const config = defaultConfig({
    dataDir,
    logUrl: join(dataDir, 'log'),
    port: 0,
    partitions: 4,
    // Many tests send events of fixed past dates; a test of retention sets its own.
    retentionDays: 3650,
    keys: [
      { key: TEST_KEYS.write, tenant: 'default', scopes: ['write'] },
      { key: TEST_KEYS.read, tenant: 'default', scopes: ['read'] },
      { key: TEST_KEYS.admin, tenant: 'default', scopes: ['write', 'read', 'admin'] },
      { key: TEST_KEYS.operator, tenant: 'default', scopes: ['write', 'read', 'admin', 'operator'] },
      { key: TEST_KEYS.acme, tenant: 'acme', scopes: ['write', 'read'] },
      { key: TEST_KEYS.acmeAdmin, tenant: 'acme', scopes: ['write', 'read', 'admin'] },
    ],
    ...overrides,
    segmentsPath,
  })
  const server = await startServer(config, createLogger('test', process.env.TAGSTREAM_LOG_LEVEL ?? 'warn'))
  return {
    url: server.url,
    keys: TEST_KEYS,
    dataDir,
    ctx: server.ctx,
    server,
    async close() {
      await server.close()
      if (overrides.dataDir === undefined) rmSync(dataDir, { recursive: true, force: true })
    },
  }
}

export function auth(key: string): Record<string, string> {
  return { authorization: `Bearer ${key}` }
}

/**
 * One real server for a describe block: started in beforeAll, closed in afterAll. The returned
 * object stands for the server once it is up (property reads go to it).
 */
export function useTestServer(overrides: Partial<ServerConfig> = {}, rules: string = TEST_RULES): TestServer {
  let server: TestServer | undefined
  beforeAll(async () => {
    server = await startTestServer(overrides, rules)
  })
  afterAll(async () => {
    await server?.close()
  })
  return new Proxy({} as TestServer, {
    get(_target, key) {
      if (!server) throw new Error('the test server is not started yet (use it inside a test or a later hook)')
      return server[key as keyof TestServer]
    },
  })
}

/** Every event in the events topic, all partitions, decoded; optionally one user's. */
export async function logEvents(s: TestServer, userId?: string): Promise<TrackedEvent[]> {
  const out: TrackedEvent[] = []
  for (let p = 0; p < s.ctx.partitions; p++) {
    for (let offset = 0; ;) {
      const records = await s.ctx.log.read(TOPICS.events, p, offset)
      if (records.length === 0) break
      for (const r of records) if (!isEngineRecord(r.value)) out.push(decodeEvent(r.value))
      offset = records[records.length - 1]!.offset + 1
    }
  }
  return userId === undefined ? out : out.filter((e) => e.user_id === userId)
}

/** A GET with headers fetch() will not send as given (Host, oversized ones): the status and the body text. */
export function rawGet(url: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((done, fail) => {
    const req = request(url, { headers }, (res) => {
      let body = ''
      res.on('data', (c: Buffer) => (body += c.toString()))
      res.on('end', () => done({ status: res.statusCode ?? 0, body }))
    })
    req.on('error', fail)
    req.end()
  })
}

/** Polls POST /v1/query (operator key) until `until` holds for its rows: the warehouse sink writes in the background. */
export async function sqlWhen(s: TestServer, query: string, until: (rows: unknown[][]) => boolean): Promise<unknown[][]> {
  let rows: unknown[][] = []
  for (let i = 0; i < 200; i++) {
    const res = await fetch(`${s.url}/v1/query`, { method: 'POST', headers: { ...auth(s.keys.operator), 'content-type': 'application/json' }, body: JSON.stringify({ sql: query }) })
    if (res.status === 200) {
      rows = ((await res.json()) as { rows: unknown[][] }).rows
      if (until(rows)) return rows
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`query never matched: ${query}; last rows ${JSON.stringify(rows)}`)
}

/** tagstream_collector_parsed_events_total by path, from /metrics: events read from bytes (`fast`) and through JSON.parse (`validated`). */
export async function parsedEvents(s: TestServer): Promise<{ fast: number; validated: number }> {
  const text = await (await fetch(`${s.url}/metrics`, { headers: auth(s.keys.admin) })).text()
  const count = (path: string) => Number(new RegExp(`^tagstream_collector_parsed_events_total\\{path="${path}"\\} (\\d+)$`, 'm').exec(text)?.[1] ?? 0)
  return { fast: count('fast'), validated: count('validated') }
}
