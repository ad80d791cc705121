/**
 * Webhooks of the new output logs (docs/streams.md): an event stream's log (`buy-events`) and
 * `player-notifications` POSTed like the others, `only` matching event names and triggers; a stream
 * the rules file does not define stops the server at start, naming the ones it has.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startWebhooks, type WebhookRunner } from '../../src/api/webhooks/index.ts'
import { until } from '../support/until.ts'
import { auth, startTestServer, type TestServer } from './harness.ts'

const RULES = `
triggers:
  thanks:
    on: purchase
    emit: player
    message: "Thanks for the {item}"
`

let receiver: Server
let base = ''
const got: Array<{ path: string; stream: string; records: Array<Record<string, unknown>> }> = []
let s: TestServer
let hooks: WebhookRunner | null = null

beforeAll(async () => {
  receiver = createServer((req, res) => {
    let body = ''
    req.on('data', (c: Buffer) => (body += c.toString()))
    req.on('end', () => {
      got.push({ path: req.url ?? '', stream: String(req.headers['x-tagstream-stream']), records: (JSON.parse(body) as { records: Array<Record<string, unknown>> }).records })
      res.writeHead(200).end()
    })
  })
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r))
  base = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`
  s = await startTestServer({}, RULES)
})
afterAll(async () => {
  await hooks?.stop()
  await s?.close()
  receiver.closeAllConnections()
  await new Promise<void>((r) => receiver.close(() => r()))
})

describe('webhooks of event streams and player notifications', () => {
  it('POSTs the records of buy-events (only purchases) and player-notifications', async () => {
    hooks = startWebhooks(
      {
        ...s.ctx,
        config: {
          ...s.ctx.config,
          webhooks: [
            { url: `${base}/buys`, streams: ['buy-events'], only: ['purchase'] },
            { url: `${base}/players`, streams: ['player-notifications'] },
          ],
        },
      },
      { start: 'now', pollWaitMs: 50 },
    )
    const ts = Date.now()
    const res = await fetch(`${s.url}/v1/events`, {
      method: 'POST',
      headers: { ...auth(s.keys.write), 'content-type': 'application/json' },
      body: JSON.stringify([
        { event: 'purchase', user_id: 'wh-1', ts, item: 'bow', event_id: 'wh-p1' },
        { event: 'in_app_purchase', user_id: 'wh-1', ts: ts + 1, amount: 1, event_id: 'wh-p2' },
      ]),
    })
    expect(res.status).toBe(200)
    await until('both webhooks', () => got.some((g) => g.path === '/buys') && got.some((g) => g.path === '/players'))
    const buys = got.filter((g) => g.path === '/buys')
    expect(buys.map((g) => g.stream)).toEqual(['buy-events'])
    expect(buys.flatMap((g) => g.records.map((r) => [r.event_id, r.event, r.stream]))).toEqual([['wh-p1', 'purchase', 'buy']])
    const players = got.filter((g) => g.path === '/players')
    expect(players.flatMap((g) => g.records.map((r) => [g.stream, r.id, r.message]))).toEqual([['player-notifications', 'wh-p1:thanks', 'Thanks for the bow']])
  })

  it('refuses a stream this server does not have, naming the ones it has', async () => {
    const bad = { ...s.ctx, config: { ...s.ctx.config, webhooks: [{ url: `${base}/all`, streams: ['all-events'] }] } }
    expect(() => startWebhooks(bad)).toThrow('webhook http://127.0.0.1:' + base.split(':')[2] + '/all: unknown stream "all-events"; this server\'s event streams are buy-events, social-events')
    await expect(startTestServer({ webhooks: [{ url: `${base}/all`, streams: ['all-events'] }] })).rejects.toThrow('unknown stream "all-events"')
  })
})
