/**
 * A third-party producer on Kafka can write anything to the output topics. A stream skips a record
 * that is not a usable segment change (not JSON, not an object, missing fields, or nested deeper
 * than JSON.stringify can write back), counts it in tagstream_stream_skipped_records_total, and
 * keeps streaming the records after it.
 */
import { createServer, type Server } from 'node:http'
import { mkdtempSync, rmSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ApiMetrics } from '../../src/api/metrics.ts'
import { SEGMENT_CHANGES } from '../../src/api/streams/kinds.ts'
import { StreamSession } from '../../src/api/streams/session.ts'
import { SseWriter } from '../../src/api/streams/sse.ts'
import { TOPICS, type EventLog } from '../../src/log/event-log.ts'
import { openEventLog } from '../../src/log/open-log.ts'
import { Tail } from './sse-tail.ts'

describe('SSE streams and garbage in the output topics', () => {
  let dir: string
  let log: EventLog
  let server: Server
  let base: string
  const sessions: StreamSession[] = []

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tagstream-streams-garbage-'))
    log = (await openEventLog(join(dir, 'log'), { partitions: 1, retentionCheckMs: 0 })).log
    // The stream session as the route makes it, from the start of partition 0, for tenant default.
    server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      res.flushHeaders()
      sessions.push(
        new StreamSession({
          log,
          logger: pino({ level: 'silent' }),
          kind: SEGMENT_CHANGES,
          start: [0],
          filter: { tenant: 'default', only: null },
          writer: new SseWriter(res),
          heartbeatMs: 60_000,
          pollWaitMs: 100,
          maxRecords: 100,
          retryMs: 1_000,
        }),
      )
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })

  afterAll(async () => {
    for (const s of sessions) s.stop()
    await Promise.all(sessions.map((s) => s.done))
    await new Promise((resolve) => server.close(resolve))
    await log.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('skips and counts a garbage record between two good ones, and keeps streaming', async () => {
    const change = (user: string) => ({ segment: 'whale', tenant: 'default', user_id: user, change: 'entered', at: Date.UTC(2026, 10, 1), values: {}, version: 1 })
    const value = (o: unknown) => Buffer.from(JSON.stringify(o))
    const depth = 200_000
    const garbage = [
      // JSON.parse reads it; writing it back as JSON overflows the stack.
      Buffer.from(`{"segment":"whale","tenant":"default","user_id":"deep","at":1,"values":${'['.repeat(depth)}${']'.repeat(depth)}}`),
      Buffer.from('not json'),
      value([1, 2]),
      value({ segment: 'whale', tenant: 'default' }),
      value({ ...change('late'), at: 'later' }),
      Buffer.of(0x7b, 0xff, 0x7d),
    ]
    await log.append(
      TOPICS.segmentChanges,
      0,
      [change('u1'), ...garbage, change('u2')].map((v) => ({ key: 'default:x', value: Buffer.isBuffer(v) ? v : value(v) })),
    )

    const ac = new AbortController()
    const tail = new Tail(await fetch(base, { signal: ac.signal }), ac)
    try {
      await tail.untilEvents(2)
      expect(tail.events.map((e) => [e.record.user_id, e.record.offset])).toEqual([
        ['u1', 0],
        ['u2', garbage.length + 1],
      ])
      // The stream is still live after them.
      await log.append(TOPICS.segmentChanges, 0, [{ key: 'default:x', value: value(change('u3')) }])
      await tail.untilEvents(3)
      expect(tail.events[2]!.record.user_id).toBe('u3')
      expect(tail.ended).toBe(false)
    } finally {
      tail.close()
    }
    const metrics = await new ApiMetrics().registry.metrics()
    expect(metrics).toContain(`tagstream_stream_skipped_records_total{stream="segment-changes"} ${garbage.length}`)
  })
})
