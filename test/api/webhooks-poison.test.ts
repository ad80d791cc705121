/**
 * A record in segment-changes / notifications that is not JSON, or lacks what a receiver is
 * promised, is skipped by the webhook dispatcher with a metric and a log line naming its partition
 * and offset; delivery goes on with the next record.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Auth } from '../../src/api/auth.ts'
import { defaultConfig } from '../../src/api/config.ts'
import { Deduper } from '../../src/ingest/dedupe.ts'
import type { ApiContext } from '../../src/api/context.ts'
import { ApiMetrics } from '../../src/api/metrics.ts'
import { startWebhooks, webhookGroup } from '../../src/api/webhooks/index.ts'
import { readWebhookRecord } from '../../src/api/webhooks/webhook-record.ts'
import { NOTIFICATIONS, SEGMENT_CHANGES } from '../../src/api/streams/kinds.ts'
import type { EngineClient } from '../../src/engine/thread/protocol.ts'
import { TOPICS, type EventLog } from '../../src/log/event-log.ts'
import { openEventLog } from '../../src/log/open-log.ts'
import type { PlayerStore } from '../../src/players/player-store.ts'
import type { StateStore } from '../../src/state/state-store.ts'
import { Signal } from '../../src/api/signal.ts'

const change = (user: string) => ({ segment: 'spinner', tenant: 'default', user_id: user, change: 'entered', at: 1, values: {}, version: 1 })
const rec = (value: string | Buffer, offset = 0) => ({ offset, key: null, value: Buffer.from(value), timestamp: 0 })
const all = { tenant: null, only: null }

describe('webhook records', () => {
  it('names why a record cannot be delivered', () => {
    const skip = (v: string | Buffer) => {
      const r = readWebhookRecord(SEGMENT_CHANGES, 0, rec(v), all)
      return r !== null && 'skip' in r ? r.skip : null
    }
    expect(skip('{"segment":')).toMatch(/^not UTF-8 JSON/)
    expect(skip(Buffer.from([0xff, 0xfe]))).toMatch(/^not UTF-8 JSON/)
    expect(skip('[1]')).toBe('not a JSON object (array)')
    expect(skip('null')).toBe('not a JSON object (null)')
    expect(skip('7')).toBe('not a JSON object (number)')
    expect(skip(JSON.stringify({ ...change('u'), user_id: 5 }))).toBe('field "user_id" is missing or not a string')
    expect(skip(JSON.stringify({ ...change('u'), segment: undefined }))).toBe('field "segment" is missing or not a string')
    expect(skip(JSON.stringify({ ...change('u'), at: 'now' }))).toBe('field "at" is missing or not a number')
    expect(skip(JSON.stringify({ ...change('u'), tenant: undefined }))).toBe('field "tenant" is missing or not a string')
    expect(skip(JSON.stringify(change('u')))).toBeNull()
    // JSON.parse takes nesting that JSON.stringify overflows its stack on: skipped, not a crash.
    const deep = JSON.stringify(change('u')).replace(/}$/, `,"x":${'['.repeat(200_000)}${']'.repeat(200_000)}}`)
    expect(skip(deep)).toMatch(/^cannot be written as JSON/)
    // A notification needs its trigger; a change with a filter it fails is left out, not skipped.
    expect(readWebhookRecord(NOTIFICATIONS, 0, rec(JSON.stringify(change('u'))), all)).toEqual({ skip: 'field "trigger" is missing or not a string' })
    expect(readWebhookRecord(SEGMENT_CHANGES, 0, rec(JSON.stringify(change('u'))), { tenant: null, only: new Set(['other']) })).toBeNull()
    expect(readWebhookRecord(SEGMENT_CHANGES, 3, rec(JSON.stringify(change('u')), 9), all)).toEqual({ wire: { ...change('u'), partition: 3, offset: 9 } })
  })
})

describe('webhook dispatcher and bad records', () => {
  let dir: string
  let log: EventLog
  let server: Server
  let url: string
  const received: Array<{ user_id: string; offset: number }> = []

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tagstream-webhooks-poison-'))
    log = (await openEventLog(join(dir, 'log'), { partitions: 1, retentionCheckMs: 0 })).log
    server = createServer((req, res) => {
      let body = ''
      req.on('data', (c: Buffer) => (body += c.toString()))
      req.on('end', () => {
        received.push(...(JSON.parse(body) as { records: Array<{ user_id: string; offset: number }> }).records)
        res.writeHead(200).end('ok')
      })
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`
  })
  afterAll(async () => {
    server.closeAllConnections()
    await new Promise<void>((r) => server.close(() => r()))
    await log.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('skips them with a metric and a log line naming partition and offset, and delivers the rest', async () => {
    await log.append(TOPICS.segmentChanges, 0, [
      { key: 'default:a', value: Buffer.from(JSON.stringify(change('a'))) },
      { key: null, value: Buffer.from('not json') },
      { key: null, value: Buffer.from('[{"segment":"spinner"}]') },
      { key: 'default:b', value: Buffer.from(JSON.stringify({ segment: 'spinner', tenant: 'default' })) },
      { key: 'default:c', value: Buffer.from(JSON.stringify(change('c'))) },
    ])
    const lines: Array<Record<string, unknown>> = []
    const logger = pino({ level: 'warn' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) })
    const metrics = new ApiMetrics()
    const ctx: ApiContext = {
      config: defaultConfig({ dataDir: dir, partitions: 1, webhooks: [{ url, streams: ['segment-changes'] }] }),
      log,
      partitions: 1,
      engine: {} as EngineClient,
      players: {} as PlayerStore,
      state: {} as StateStore,
      auth: new Auth([]),
      metrics,
      logger,
      inflight: { bytes: 0 },
      deduper: new Deduper({ horizonMs: 600_000, maxEntries: 1000 }),
      warehouseFiles: new Signal(),
    }
    const runner = startWebhooks(ctx, { start: 'earliest', pollWaitMs: 50 })
    try {
      const deadline = Date.now() + 5_000
      while ((await log.committed(webhookGroup(url), TOPICS.segmentChanges, 0)) !== 5) {
        if (Date.now() > deadline) throw new Error(`not committed; received ${JSON.stringify(received)}`)
        await new Promise((r) => setTimeout(r, 20))
      }
      expect(received.map((r) => [r.user_id, r.offset])).toEqual([
        ['a', 0],
        ['c', 4],
      ])
      const skipped = (await metrics.webhookSkipped.get()).values
      expect(skipped.map((v) => [v.labels.stream, v.value])).toEqual([['segment-changes', 3]])
      const warned = lines.filter((l) => l.msg === 'webhook skipped an unreadable record')
      expect(warned.map((l) => [l.topic, l.partition, l.offset])).toEqual([
        ['segment-changes', 0, 1],
        ['segment-changes', 0, 2],
        ['segment-changes', 0, 3],
      ])
      expect(warned[2]!.reason).toBe('field "user_id" is missing or not a string')
      // Each skipped record is dead-lettered, named by the webhook's group and its place in the log.
      const letters = (await log.read(TOPICS.deadLetters, 0, 0)).map((r) => JSON.parse(Buffer.from(r.value).toString()) as Record<string, unknown>)
      expect(letters.map((l) => [l.source, l.tenant, l.topic, l.partition, l.offset, l.index])).toEqual([
        [webhookGroup(url), 'default', 'segment-changes', 0, 1, -1],
        [webhookGroup(url), 'default', 'segment-changes', 0, 2, -1],
        [webhookGroup(url), 'default', 'segment-changes', 0, 3, -1],
      ])
      expect(Buffer.from(String(letters[0]!.raw_base64), 'base64').toString()).toBe('not json')
    } finally {
      await runner.stop()
    }
  })
})
