/**
 * Two servers filling the same inboxes (docs/streams.md, "The inbox"): collectors sharing one
 * Postgres state store each run an InboxFiller over the same player-notifications log; every record
 * is stored once, and a message delivered while they run never comes back.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { InboxFiller } from '../../src/api/inbox/inbox-filler.ts'
import { TOPICS } from '../../src/log/event-log.ts'
import { openEventLog } from '../../src/log/open-log.ts'
import { createLogger } from '../../src/logger.ts'
import { PostgresStateStore } from '../../src/state/postgres/state-store.ts'
import { testSchema } from '../state/postgres-helpers.ts'
import { until } from '../support/until.ts'

const P = 2

describe('InboxFiller on two servers', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tagstream-inbox-filler-'))
  const schema = testSchema('inboxfill')
  afterAll(async () => {
    await schema.drop()
    rmSync(dir, { recursive: true, force: true })
  })

  it('stores every record once, whichever server read it', async () => {
    const { log } = await openEventLog(join(dir, 'log'), { partitions: P, retentionCheckMs: 0 })
    const stores = [await PostgresStateStore.open(schema.url), await PostgresStateStore.open(schema.url)]
    const logger = createLogger('test', 'silent')
    const options = { maxPerPlayer: 1_000, ttlMs: 86_400_000, pollWaitMs: 20, batch: 7, expireEveryMs: 3_600_000 }
    const fillers = stores.map((s) => new InboxFiller(log, s.inbox, P, logger, options))
    try {
      for (const f of fillers) f.start()
      const note = (i: number) => ({ id: `e${i}:t`, tenant: 'default', user_id: `u${i % 5}`, trigger: 't', message: `m${i}`, event: 'level_up', event_id: `e${i}`, at: i })
      const feed = async (from: number, to: number) => {
        for (let i = from; i < to; i += 10) {
          const batch = Array.from({ length: 10 }, (_, k) => note(i + k))
          for (let p = 0; p < P; p++)
            await log.append(
              TOPICS.playerNotifications,
              p,
              batch.filter((n) => Number(n.user_id.slice(1)) % P === p).map((n) => ({ key: `default:${n.user_id}`, value: Buffer.from(JSON.stringify(n)) })),
            )
        }
      }
      await feed(0, 100)
      await until('u0 holding e0 and e5', async () => (await stores[1]!.inbox.undelivered('default', 'u0', 1_000)).filter((m) => m.id === 'e0:t' || m.id === 'e5:t').length === 2)
      expect(await stores[0]!.inbox.markDelivered('default', 'u0', ['e0:t', 'e5:t'])).toBe(2)
      await feed(100, 300)
      await until('every record taken in', async () => {
        for (let p = 0; p < P; p++) if ((await stores[0]!.inbox.position(p)) !== (await log.offsets(TOPICS.playerNotifications, p)).end) return false
        return true
      })
      const all = []
      for (let u = 0; u < 5; u++) all.push(...(await stores[1]!.inbox.undelivered('default', `u${u}`, 1_000)))
      const ids = all.map((m) => m.id)
      expect(new Set(ids).size).toBe(ids.length)
      // Every record once, but the two delivered mid-run, which never came back.
      expect(ids.length).toBe(298)
      expect(ids.filter((id) => id === 'e0:t' || id === 'e5:t')).toEqual([])
    } finally {
      for (const f of fillers) await f.stop()
      for (const s of stores) await s.close()
      await log.close()
    }
  })
})
