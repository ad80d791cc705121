/**
 * Issue 15 item 10: a game action's player change and its event are one (docs/game.md, "Player and
 * event together"). Reported: a crash between the player write and the event append lost the event.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import type { TrackedEvent } from '../../src/events/index.ts'
import { decodeEvent } from '../../src/events/codec.ts'
import { actionEvent, outboxOf } from '../../src/game/events.ts'
import { appendEvents } from '../../src/ingest/append-events.ts'
import { TOPICS, type EventLog } from '../../src/log/event-log.ts'
import { openEventLog } from '../../src/log/open-log.ts'
import { EmbeddedPlayerStore } from '../../src/players/embedded/player-store.ts'
import { readRange } from '../../src/log/read-range.ts'
import { auth, startTestServer } from '../api/harness.ts'
import { startServeChild } from '../support/serve-child.ts'
import { canMount, fillDisk, mountTmpfs, unmountTmpfs } from '../support/tmpfs.ts'
import { until } from '../support/until.ts'

const KEY = 'outbox-admin'
const PARTITIONS = 4
const dirs: string[] = []
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })))
const fresh = (label: string) => {
  const d = mkdtempSync(join(tmpdir(), `tagstream-outbox-${label}-`))
  dirs.push(d)
  return d
}

async function post(url: string, path: string, body: unknown, key = KEY): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${url}${path}`, { method: 'POST', headers: { ...auth(key), 'content-type': 'application/json' }, body: JSON.stringify(body) })
  return { status: res.status, json: (await res.json()) as Record<string, unknown> }
}

/** Every event of the log, decoded (binary records only). */
async function allEvents(log: EventLog): Promise<TrackedEvent[]> {
  const out: TrackedEvent[] = []
  for (let p = 0; p < PARTITIONS; p++) {
    const { start, end } = await log.offsets(TOPICS.events, p)
    for (const r of await readRange(log, TOPICS.events, p, start, end)) if (r.value[0] === 1 || r.value[0] === 0x7b) out.push(decodeEvent(r.value))
  }
  return out
}

describe('the game outbox', () => {
  it('after a restart, appends an event a crash kept from the log and drops one that reached it, each exactly once', async () => {
    const dataDir = fresh('restart')
    const s = await startTestServer({ dataDir, partitions: PARTITIONS, warehouse: false, clockTickMs: 0 })
    const reg = await post(s.url, '/game/players', { id: 'p1', name: 'dirk', password: 'pw-secret-1', wealth: 1000 }, s.keys.admin)
    expect(reg.status).toBe(201)
    await s.close()

    // What a crash leaves: two purchases stored with their events in the outbox; the first one's
    // event also reached the log (the crash came before its row was dropped), the second's did not.
    const store = EmbeddedPlayerStore.open(join(dataDir, 'state'))
    const { log } = await openEventLog(join(dataDir, 'log'), { partitions: PARTITIONS })
    const made: TrackedEvent[] = []
    for (const cost of [10, 20]) {
      await store.updatePlayer('default', 'p1', (p) => {
        const write = { ...p, wealth: p.wealth - cost, version: p.version + 1 }
        const event = actionEvent('default', { event: 'purchase', user_id: 'p1', ts: Date.now(), kind: 'sword', cost, amount: cost, status: 'approved_purchase' })
        made.push(event)
        return { write, result: null, outbox: outboxOf(event) }
      })
    }
    await appendEvents(log, [made[0]!], PARTITIONS)
    await log.close()
    await store.close()

    const again = await startTestServer({ dataDir, partitions: PARTITIONS, warehouse: false, clockTickMs: 0 })
    try {
      await until('the outbox to drain', async () => (await again.ctx.players.pendingOutbox(10, Infinity)).length === 0, 20_000)
      const purchases = (await allEvents(again.ctx.log)).filter((e) => e.event === 'purchase')
      expect(purchases.map((e) => e.event_id).sort()).toEqual(made.map((e) => e.event_id).sort())
      const metrics = await (await fetch(`${again.url}/metrics`)).text()
      expect(metrics).toMatch(/tagstream_game_outbox_relayed_total\{result="appended"\} 1\b/)
      expect(metrics).toMatch(/tagstream_game_outbox_relayed_total\{result="already_appended"\} 1\b/)
    } finally {
      await again.close()
    }
  })

  it('answers a purchase the log refuses (disk full) with its result, keeps the event, and appends it once when space returns, across a SIGKILL', { skip: !canMount, timeout: 120_000 }, async () => {
    const root = fresh('full')
    const mount = join(root, 'mnt')
    mkdirSync(mount)
    mountTmpfs(mount, '24m')
    const args = ['--data', join(root, 'data'), '--log', join(mount, 'log'), '--partitions', String(PARTITIONS)]
    try {
      const first = await startServeChild(args, KEY)
      let boughtWhileFull: Record<string, unknown>
      let ballast = ''
      try {
        expect((await post(first.url, '/game/players', { id: 'p1', name: 'dirk', password: 'pw-secret-1', wealth: 1000 })).status).toBe(201)
        expect((await post(first.url, '/game/buy/sword', { player: 'p1', type: 'cutlass', cost: 10 })).status).toBe(200)
        // Fill the log's disk until it refuses appends.
        ballast = fillDisk(mount, 256 * 1024)
        const padding = 'x'.repeat(2_000)
        let refused = false
        for (let i = 0; i < 2_000 && !refused; i++) {
          const res = await fetch(`${first.url}/v1/events`, {
            method: 'POST',
            headers: { ...auth(KEY), 'content-type': 'application/json' },
            body: JSON.stringify(Array.from({ length: 20 }, (_, j) => ({ event: 'pad', user_id: `f${i}`, event_id: `f${i}-${j}`, padding }))),
          })
          refused = res.status === 503
        }
        expect(refused).toBe(true)
        // The purchase happened: its answer says so, and its event waits in the outbox.
        const r = await post(first.url, '/game/buy/sword', { player: 'p1', type: 'longsword', cost: 25 })
        expect(r.status).toBe(200)
        expect(r.json).toMatchObject({ status: 'approved_purchase', player: { wealth: 965 } })
        boughtWhileFull = r.json
        // A refusal changes nothing; with no log it is an error that says so.
        const poor = await post(first.url, '/game/buy/sword', { player: 'p1', type: 'excalibur', cost: 5000 })
        expect(poor.status).toBe(503)
        expect(poor.json).toMatchObject({ error: { code: 'event_not_recorded' } })
      } finally {
        // The crash: the relay never got to the event.
        await first.kill()
      }
      expect(boughtWhileFull).toBeDefined()
      rmSync(ballast)

      const second = await startServeChild(args, KEY)
      try {
        await until(
          'both purchases in the profile',
          async () => {
            const res = await fetch(`${second.url}/v1/profiles/p1`, { headers: auth(KEY) })
            return res.status === 200 && ((await res.json()) as { counts?: Record<string, number> }).counts?.purchase === 2
          },
          20_000,
        )
        const player = await fetch(`${second.url}/game/players/p1`, { headers: auth(KEY) })
        expect(await player.json()).toMatchObject({ player: { wealth: 965, version: 3 } })
      } finally {
        await second.kill()
      }
      // Exactly one event per action in the log: created, two purchases (no refusal was recorded).
      const { log } = await openEventLog(join(mount, 'log'), { partitions: PARTITIONS })
      try {
        const game = (await allEvents(log)).filter((e) => e.user_id === 'p1')
        expect(game.map((e) => [e.event, e.properties.cost ?? null])).toEqual(
          expect.arrayContaining([
            ['player_created', null],
            ['purchase', 10],
            ['purchase', 25],
          ]),
        )
        expect(game).toHaveLength(3)
        expect(new Set(game.map((e) => e.event_id)).size).toBe(3)
      } finally {
        await log.close()
      }
    } finally {
      await unmountTmpfs(mount)
    }
  })
})
