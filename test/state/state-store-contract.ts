import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { FencedError, type AuditEntry, type ErasureJob, type InboxMessage, type PartitionCheckpoint, type StateStore } from '../../src/state/state-store.ts'

export interface StateStoreHarness {
  open(): Promise<StateStore>
  reopen(): Promise<StateStore>
  cleanup(): Promise<void>
}

const bytes = (s: string) => new TextEncoder().encode(s)
const text = (b: Uint8Array | null) => (b === null ? null : new TextDecoder().decode(b))
const ckpt = (nextOffset: number): PartitionCheckpoint => ({ nextOffset, engine: { watermark: nextOffset * 10, late: 1 }, outputs: { 'segment-changes': nextOffset / 2 } })

async function collect(store: StateStore, ns: string, p: number) {
  const out: Array<[string, string | null]> = []
  for await (const u of store.loadUsers(ns, p)) out.push([u.key, text(u.state)])
  return out
}

/** The StateStore contract: every adapter's test calls this. */
export function runStateStoreContract(name: string, harness: () => StateStoreHarness): void {
  describe(`StateStore contract: ${name}`, () => {
    let h: StateStoreHarness
    let store: StateStore
    beforeEach(async () => {
      h = harness()
      store = await h.open()
    })
    afterEach(async () => {
      await store.close()
      await h.cleanup()
    })

    it('has no checkpoint and no users before the first save', async () => {
      expect(await store.loadCheckpoint('engine', 0)).toBeNull()
      expect(await collect(store, 'engine', 0)).toEqual([])
      expect(await store.getUser('engine', 0, 'default:1')).toBeNull()
    })

    it('saves a checkpoint with its users and reads them back', async () => {
      await store.saveCheckpoint('engine', 3, ckpt(100), [
        { key: 'default:2', state: bytes('two') },
        { key: 'default:1', state: bytes('one') },
      ])
      expect(await store.loadCheckpoint('engine', 3)).toEqual(ckpt(100))
      expect(await collect(store, 'engine', 3)).toEqual([
        ['default:1', 'one'],
        ['default:2', 'two'],
      ])
      expect(text(await store.getUser('engine', 3, 'default:2'))).toBe('two')
    })

    it('updates and deletes users in later checkpoints and keeps partitions and namespaces apart', async () => {
      await store.saveCheckpoint('engine', 0, ckpt(10), [
        { key: 'a', state: bytes('a1') },
        { key: 'b', state: bytes('b1') },
      ])
      await store.saveCheckpoint('engine', 1, ckpt(20), [{ key: 'a', state: bytes('other partition') }])
      await store.saveCheckpoint('other', 0, ckpt(30), [{ key: 'a', state: bytes('other namespace') }])
      await store.saveCheckpoint('engine', 0, ckpt(12), [
        { key: 'a', state: bytes('a2') },
        { key: 'b', state: null },
      ])
      expect(await collect(store, 'engine', 0)).toEqual([['a', 'a2']])
      expect(await collect(store, 'engine', 1)).toEqual([['a', 'other partition']])
      expect(await collect(store, 'other', 0)).toEqual([['a', 'other namespace']])
      expect((await store.loadCheckpoint('engine', 0))!.nextOffset).toBe(12)
    })

    it('keeps everything across a restart and can reset a namespace', async () => {
      await store.saveCheckpoint('engine', 0, ckpt(10), [{ key: 'a', state: new Uint8Array([0, 255, 7]) }])
      await store.saveCheckpoint('keep', 0, ckpt(5), [{ key: 'z', state: bytes('z') }])
      await store.close()
      store = await h.reopen()
      expect(await store.loadCheckpoint('engine', 0)).toEqual(ckpt(10))
      expect([...(await store.getUser('engine', 0, 'a'))!]).toEqual([0, 255, 7])
      await store.reset('engine')
      expect(await store.loadCheckpoint('engine', 0)).toBeNull()
      expect(await collect(store, 'engine', 0)).toEqual([])
      expect(await collect(store, 'keep', 0)).toEqual([['z', 'z']])
    })

    it('writes large checkpoints atomically', async () => {
      const users = Array.from({ length: 5_000 }, (_, i) => ({ key: `u${String(i).padStart(5, '0')}`, state: bytes('x'.repeat(200)) }))
      await store.saveCheckpoint('engine', 0, ckpt(1), users)
      expect((await collect(store, 'engine', 0)).length).toBe(5_000)
    })

    it('refuses a fenced checkpoint under a lease it does not hold, writing nothing', async () => {
      await store.saveCheckpoint('engine', 2, ckpt(10), [{ key: 'a', state: bytes('a1') }])
      const fenced = store.saveCheckpoint(
        'engine',
        2,
        ckpt(20),
        [
          { key: 'a', state: bytes('a2') },
          { key: 'b', state: bytes('b') },
        ],
        { owner: 'w1', epoch: 1 },
      )
      await expect(fenced).rejects.toThrow(FencedError)
      await expect(fenced).rejects.toThrow('checkpoint of engine partition 2 refused: its lease is not held by "w1" at epoch 1')
      expect(await store.loadCheckpoint('engine', 2)).toEqual(ckpt(10))
      expect(await collect(store, 'engine', 2)).toEqual([['a', 'a1']])
    })

    it('keeps every version of each tenant rule set; a version taken is refused and left as it was', async () => {
      const set = (tenant: string, version: number, text: string) => ({ tenant, version, text, by: 'key-abc', at: 1_700_000_000_000 + version })
      expect(await store.latestRuleSets()).toEqual([])
      expect(await store.getRuleSet('acme', 1)).toBeNull()
      expect(await store.addRuleSet(set('acme', 1, 'segments: {}\n'))).toBe(true)
      expect(await store.addRuleSet(set('acme', 2, 'segments:\n  a:\n    when: count(spin) > 1\n'))).toBe(true)
      expect(await store.addRuleSet(set('beta', 1, 'triggers: {}\n'))).toBe(true)
      // A concurrent change that read the same latest version loses, and writes nothing.
      expect(await store.addRuleSet(set('acme', 2, 'other'))).toBe(false)
      const reopened = await h.reopen()
      try {
        expect(await reopened.getRuleSet('acme', 2)).toEqual(set('acme', 2, 'segments:\n  a:\n    when: count(spin) > 1\n'))
        expect(await reopened.getRuleSet('acme', 1)).toEqual(set('acme', 1, 'segments: {}\n'))
        expect((await reopened.latestRuleSets()).sort((x, y) => x.tenant.localeCompare(y.tenant))).toEqual([
          set('acme', 2, 'segments:\n  a:\n    when: count(spin) > 1\n'),
          set('beta', 1, 'triggers: {}\n'),
        ])
        expect((await reopened.ruleSetHistory('acme', 10)).map((v) => v.version)).toEqual([2, 1])
        expect((await reopened.ruleSetHistory('acme', 1)).map((v) => v.version)).toEqual([2])
        expect(await reopened.ruleSetHistory('nobody', 10)).toEqual([])
      } finally {
        await reopened.close()
      }
    })
    it('keeps erasure jobs: added once, replaced, listed newest first by tenant and activity; reset leaves them', async () => {
      const job = (id: string, tenant: string, at: number, status: ErasureJob['status'], tombstone = true): ErasureJob => ({
        id,
        tenant,
        ids: ['u1', 'anon-1'],
        by: 'key-abc',
        requestedAt: at,
        status,
        from: { '0': 3 },
        offsets: {},
        engine: false,
        warehouse: false,
        tombstone,
        finishedAt: null,
        error: null,
      })
      expect(await store.privacy.getErasure('era_1')).toBeNull()
      expect(await store.privacy.addErasure(job('era_1', 'acme', 100, 'accepted'))).toBe(true)
      expect(await store.privacy.addErasure(job('era_1', 'acme', 999, 'done'))).toBe(false)
      expect(await store.privacy.addErasure(job('era_2', 'acme', 200, 'done', false))).toBe(true)
      expect(await store.privacy.addErasure(job('era_3', 'beta', 300, 'done', true))).toBe(true)
      expect(await store.privacy.addErasure(job('era_4', 'acme', 200, 'erasing'))).toBe(true)
      const moved = { ...job('era_1', 'acme', 100, 'erasing'), offsets: { '0': 7 }, engine: true }
      await store.privacy.updateErasure(moved)
      // Only a stored job is replaced.
      await store.privacy.updateErasure(job('era_9', 'acme', 50, 'accepted'))
      expect(await store.privacy.getErasure('era_9')).toBeNull()
      await store.saveCheckpoint('engine', 0, ckpt(1), [])
      await store.reset('engine')
      const reopened = await h.reopen()
      try {
        expect(await reopened.privacy.getErasure('era_1')).toEqual(moved)
        const ids = (jobs: ErasureJob[]) => jobs.map((j) => j.id)
        expect(ids(await reopened.privacy.listErasures({ tenant: null, active: false, limit: 10 }))).toEqual(['era_3', 'era_4', 'era_2', 'era_1'])
        expect(ids(await reopened.privacy.listErasures({ tenant: 'acme', active: false, limit: 10 }))).toEqual(['era_4', 'era_2', 'era_1'])
        expect(ids(await reopened.privacy.listErasures({ tenant: 'acme', active: false, limit: 2 }))).toEqual(['era_4', 'era_2'])
        // Active: not done, or done with its tombstone still holding.
        expect(ids(await reopened.privacy.listErasures({ tenant: 'acme', active: true, limit: 10 }))).toEqual(['era_4', 'era_1'])
        expect(ids(await reopened.privacy.listErasures({ tenant: null, active: true, limit: 10 }))).toEqual(['era_3', 'era_4', 'era_1'])
      } finally {
        await reopened.close()
      }
    })

    it('keeps the audit trail newest first per tenant, and renames one subject of one tenant; reset leaves it', async () => {
      const entry = (at: number, tenant: string, subject: string, action: AuditEntry['action'] = 'export'): AuditEntry => ({
        at,
        tenant,
        action,
        subject,
        by: 'key-abc',
        job: action === 'erase' ? `era_${at}` : null,
      })
      await store.privacy.addAudit(entry(10, 'acme', 'u1', 'erase'))
      await store.privacy.addAudit(entry(20, 'acme', 'u2'))
      await store.privacy.addAudit(entry(20, 'acme', 'u1'))
      await store.privacy.addAudit(entry(15, 'beta', 'u1'))
      await store.privacy.addAudit(entry(20, 'beta', 'u3'))
      await store.privacy.renameAuditSubject('acme', 'u1', 'sha256:x')
      await store.saveCheckpoint('engine', 0, ckpt(1), [])
      await store.reset('engine')
      const reopened = await h.reopen()
      try {
        // Same millisecond: the later entry first.
        expect(await reopened.privacy.auditEntries('acme', 10)).toEqual([entry(20, 'acme', 'sha256:x'), entry(20, 'acme', 'u2'), entry(10, 'acme', 'sha256:x', 'erase')])
        expect(await reopened.privacy.auditEntries('acme', 1)).toEqual([entry(20, 'acme', 'sha256:x')])
        expect(await reopened.privacy.auditEntries('beta', 10)).toEqual([entry(20, 'beta', 'u3'), entry(15, 'beta', 'u1')])
        // Every tenant's: a tie across tenants goes by insertion too.
        const all = (entries: AuditEntry[]) => entries.map((e) => `${e.tenant}:${e.at}:${e.subject}`)
        expect(all(await reopened.privacy.auditEntries(null, 10))).toEqual(['beta:20:u3', 'acme:20:sha256:x', 'acme:20:u2', 'beta:15:u1', 'acme:10:sha256:x'])
        expect(all(await reopened.privacy.auditEntries(null, 2))).toEqual(['beta:20:u3', 'acme:20:sha256:x'])
        expect(await reopened.privacy.auditEntries('nobody', 10)).toEqual([])
        // A reopened store carries on after the entries before it: in the same millisecond, still newest first.
        await reopened.privacy.addAudit(entry(20, 'acme', 'u4'))
        expect((await reopened.privacy.auditEntries('acme', 2)).map((e) => e.subject)).toEqual(['u4', 'sha256:x'])
        // Entries added at once, in the same millisecond, are all kept.
        const burst = Array.from({ length: 50 }, (_, i) => entry(30, 'burst', `b${String(i).padStart(2, '0')}`))
        await Promise.all(burst.map((e) => reopened.privacy.addAudit(e)))
        expect((await reopened.privacy.auditEntries('burst', 100)).map((e) => e.subject).sort()).toEqual(burst.map((e) => e.subject))
      } finally {
        await reopened.close()
      }
    })

    describe('inbox', () => {
      // The Postgres harness's cleanup leaves these tables as they are: each test takes its own
      // partitions and tenants, stores at late storedAt (expiry's test expires before 1,000), and counts from a baseline.
      let fresh = 0
      const place = () => {
        fresh++
        return { p: 1_000 + fresh * 10, t: `inbox-${fresh}` }
      }
      const msg = (tenant: string, user: string, eventId: string, storedAt = 1_700_000_000_000): InboxMessage => ({
        id: `${eventId}:welcome`,
        tenant,
        user_id: user,
        trigger: 'welcome',
        message: `Hello ${user}, you did ${eventId}`,
        event: 'login',
        event_id: eventId,
        at: 1_600_000_000_000,
        storedAt,
      })
      const ids = (messages: InboxMessage[]) => messages.map((m) => m.event_id)

      it('takes a range in once: the position moves, a stale or concurrent take returns null and writes nothing', async () => {
        const { p, t } = place()
        expect(await store.inbox.position(p)).toBe(0)
        expect(await store.inbox.take(p, 0, 3, [msg(t, 'u1', 'e1'), msg(t, 'u1', 'e2'), msg(t, 'u2', 'e3')], 10)).toBe(0)
        expect(await store.inbox.position(p)).toBe(3)
        expect(await store.inbox.position(p + 1)).toBe(0)
        expect(await store.inbox.undelivered(t, 'u1', 10)).toEqual([msg(t, 'u1', 'e1'), msg(t, 'u1', 'e2')])
        expect(await store.inbox.take(p, 0, 4, [msg(t, 'u1', 'stale')], 10)).toBeNull()
        expect(await store.inbox.position(p)).toBe(3)
        expect(ids(await store.inbox.undelivered(t, 'u1', 10))).toEqual(['e1', 'e2'])
        // Two servers reading the same records: one takes them in, once. Also on a partition with no position yet.
        const other = await h.reopen()
        try {
          for (const [q, from] of [
            [p, 3],
            [p + 2, 0],
          ] as const) {
            const results = await Promise.all([store.inbox.take(q, from, from + 2, [msg(t, 'u3', `a${q}`)], 10), other.inbox.take(q, from, from + 5, [msg(t, 'u3', `b${q}`)], 10)])
            expect(results.filter((r) => r === null)).toHaveLength(1)
            const won = results[0] === null ? 'b' : 'a'
            expect(await store.inbox.position(q)).toBe(from + (won === 'a' ? 2 : 5))
            expect(ids(await store.inbox.undelivered(t, 'u3', 10)).filter((id) => id.endsWith(String(q)))).toEqual([`${won}${q}`])
          }
        } finally {
          await other.close()
        }
      })

      it('stores an id once and lists a player undelivered messages in log order, per tenant and player', async () => {
        const { p, t } = place()
        const odd = 'u1\u0000é\u{1F600}'
        await store.inbox.take(p, 0, 4, [msg(t, 'u1', 'e1'), msg(t, 'u10', 'e2'), msg(t, 'u1', 'e3'), msg(t, 'u1', 'e1')], 10)
        await store.inbox.take(p, 4, 9, [msg(t, 'u1', 'e3'), msg(`${t}-other`, 'u1', 'e1'), msg(t, 'u1', 'e0'), { ...msg(t, odd, 'e\u00004'), message: 'a\u0000b' }, msg(t, 'u1', 'e5')], 10)
        expect(await store.inbox.undelivered(t, 'u1', 10)).toEqual([msg(t, 'u1', 'e1'), msg(t, 'u1', 'e3'), msg(t, 'u1', 'e0'), msg(t, 'u1', 'e5')])
        expect(ids(await store.inbox.undelivered(t, 'u1', 2))).toEqual(['e1', 'e3'])
        expect(await store.inbox.undelivered(t, 'u10', 10)).toEqual([msg(t, 'u10', 'e2')])
        expect(await store.inbox.undelivered(`${t}-other`, 'u1', 10)).toEqual([msg(`${t}-other`, 'u1', 'e1')])
        expect(await store.inbox.undelivered(t, odd, 10)).toEqual([{ ...msg(t, odd, 'e\u00004'), message: 'a\u0000b' }])
        expect(await store.inbox.undelivered(t, 'nobody', 10)).toEqual([])
      })

      it('removes delivered messages, counting them and ignoring unknown ids; their range cannot be taken again', async () => {
        const { p, t } = place()
        const range = [msg(t, 'u1', 'e1'), msg(t, 'u1', 'e2'), msg(t, 'u1', 'e3'), msg(t, 'u2', 'e4')]
        await store.inbox.take(p, 0, 4, range, 10)
        expect(await store.inbox.markDelivered(t, 'u1', ['e1:welcome', 'nope', 'e3:welcome'])).toBe(2)
        expect(await store.inbox.markDelivered(t, 'u1', ['e1:welcome'])).toBe(0)
        // Another player's message is not this player's to mark.
        expect(await store.inbox.markDelivered(t, 'u1', ['e4:welcome'])).toBe(0)
        expect(await store.inbox.markDelivered(t, 'u1', [])).toBe(0)
        expect(ids(await store.inbox.undelivered(t, 'u1', 10))).toEqual(['e2'])
        expect(await store.inbox.take(p, 0, 4, range, 10)).toBeNull()
        expect(ids(await store.inbox.undelivered(t, 'u1', 10))).toEqual(['e2'])
        expect(ids(await store.inbox.undelivered(t, 'u2', 10))).toEqual(['e4'])
      })

      it('drops the oldest messages of a player beyond the cap and counts them', async () => {
        const { p, t } = place()
        expect(await store.inbox.take(p, 0, 3, [msg(t, 'u1', 'e1'), msg(t, 'u1', 'e2'), msg(t, 'u1', 'e3')], 2)).toBe(1)
        expect(ids(await store.inbox.undelivered(t, 'u1', 10))).toEqual(['e2', 'e3'])
        expect(await store.inbox.take(p, 3, 6, [msg(t, 'u1', 'e4'), msg(t, 'u2', 'e5'), msg(t, 'u1', 'e6')], 2)).toBe(2)
        expect(ids(await store.inbox.undelivered(t, 'u1', 10))).toEqual(['e4', 'e6'])
        expect(ids(await store.inbox.undelivered(t, 'u2', 10))).toEqual(['e5'])
        // A dropped id is gone: delivering it finds nothing.
        expect(await store.inbox.markDelivered(t, 'u1', ['e2:welcome'])).toBe(0)
        expect(await store.inbox.take(p, 6, 7, [msg(t, 'u1', 'e7')], 5)).toBe(0)
        expect(ids(await store.inbox.undelivered(t, 'u1', 10))).toEqual(['e4', 'e6', 'e7'])
      })

      it('expires messages stored before a time, erases players of one tenant, and counts what is held', async () => {
        const { p, t } = place()
        const base = await store.inbox.count()
        await store.inbox.take(
          p,
          0,
          6,
          [msg(t, 'u1', 'e1', 100), msg(t, 'u1', 'e2', 200), msg(t, 'u2', 'e3', 150), msg(t, 'u3', 'e4', 300), msg(`${t}-other`, 'u1', 'e5', 300), msg(t, 'u2', 'e6', 300)],
          10,
        )
        expect(await store.inbox.count()).toBe(base + 6)
        expect(await store.inbox.expire(200)).toBe(2)
        expect(await store.inbox.expire(200)).toBe(0)
        expect(ids(await store.inbox.undelivered(t, 'u1', 10))).toEqual(['e2'])
        expect(ids(await store.inbox.undelivered(t, 'u2', 10))).toEqual(['e6'])
        expect(await store.inbox.count()).toBe(base + 4)
        expect(await store.inbox.erase(t, ['u1', 'u2', 'nobody'])).toBe(2)
        expect(await store.inbox.erase(t, [])).toBe(0)
        expect(await store.inbox.undelivered(t, 'u1', 10)).toEqual([])
        expect(ids(await store.inbox.undelivered(t, 'u3', 10))).toEqual(['e4'])
        expect(ids(await store.inbox.undelivered(`${t}-other`, 'u1', 10))).toEqual(['e5'])
        expect(await store.inbox.count()).toBe(base + 2)
        // Erased and expired ids are free again: nothing of them is left behind.
        expect(await store.inbox.take(p, 6, 8, [msg(t, 'u1', 'e1', 100), msg(t, 'u1', 'e2')], 10)).toBe(0)
        expect(ids(await store.inbox.undelivered(t, 'u1', 10))).toEqual(['e1', 'e2'])
        expect(await store.inbox.expire(101)).toBe(1)
        expect(await store.inbox.count()).toBe(base + 3)
      })

      it('keeps inboxes, positions and the count across reopening, and carries on in log order', async () => {
        const { p, t } = place()
        const base = await store.inbox.count()
        await store.inbox.take(p, 0, 2, [msg(t, 'u1', 'e1'), msg(t, 'u1', 'e2')], 10)
        await store.inbox.take(p + 1, 0, 1, [msg(t, 'u2', 'e3')], 10)
        await store.saveCheckpoint('engine', 0, ckpt(1), [])
        await store.reset('engine')
        await store.close()
        store = await h.reopen()
        expect(await store.inbox.position(p)).toBe(2)
        expect(await store.inbox.position(p + 1)).toBe(1)
        expect(await store.inbox.count()).toBe(base + 3)
        expect(await store.inbox.undelivered(t, 'u1', 10)).toEqual([msg(t, 'u1', 'e1'), msg(t, 'u1', 'e2')])
        expect(await store.inbox.take(p, 0, 2, [msg(t, 'u1', 'again')], 10)).toBeNull()
        // New messages go after those stored before: the order (and the store's numbering) carries on.
        expect(await store.inbox.take(p, 2, 4, [msg(t, 'u1', 'e4'), msg(t, 'u1', 'e1')], 10)).toBe(0)
        expect(ids(await store.inbox.undelivered(t, 'u1', 10))).toEqual(['e1', 'e2', 'e4'])
        expect(await store.inbox.count()).toBe(base + 4)
      })
    })
  })
}
