import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { engineOptions } from '../../src/engine/engine-options.ts'
import { EngineRunner } from '../../src/engine/engine-runner.ts'
import { prepareRules } from '../../src/engine/engine-rules.ts'
import { parseRulesYaml } from '../../src/rules/index.ts'
import { validateEvent, type TrackedEvent } from '../../src/events/index.ts'
import { appendEvents } from '../../src/ingest/append-events.ts'
import { TOPICS } from '../../src/log/event-log.ts'
import { openEventLog } from '../../src/log/open-log.ts'
import { EmbeddedStateStore } from '../../src/state/embedded/state-store.ts'

describe('engine loop during a catch-up', () => {
  const root = mkdtempSync(join(tmpdir(), 'tagstream-runner-loop-'))
  afterAll(() => rmSync(root, { recursive: true, force: true }))

  it('lets timers, fsync completions and checkpoints run between batches instead of after the backlog', async () => {
    const { log, partitions } = await openEventLog(join(root, 'log'), { partitions: 2 })
    const store = EmbeddedStateStore.open(join(root, 'state'))
    try {
      const t0 = Date.UTC(2026, 10, 1, 10)
      const events: TrackedEvent[] = []
      for (let i = 0; i < 40_000; i++) {
        const v = validateEvent({ event: 'spin', user_id: `u${i % 500}`, ts: t0 + i * 10 }, { receivedAt: t0 + i * 10 })
        if (!v.ok) throw new Error(v.error.reason)
        events.push(v.event)
      }
      for (let i = 0; i < events.length; i += 5_000) await appendEvents(log, events.slice(i, i + 5_000), partitions)
      const options = engineOptions()
      const rules = prepareRules(parseRulesYaml('segments:\n  spinner:\n    when: count(spin, 1h) >= 20\n'), options)
      const runner = await EngineRunner.create(log, store, rules, options, [0, 1], { batchSize: 200, checkpointIntervalMs: 1, clockTickMs: 0 })
      // Sampled by a timer: with a loop that never yields, it would fire only once the backlog is done.
      const seen: number[] = []
      const timer = setInterval(() => seen.push(runner.workers.reduce((n, w) => n + w.nextOffset, 0)), 1)
      await runner.drain(log)
      clearInterval(timer)
      expect(seen.some((n) => n > 0 && n < events.length)).toBe(true)
      // Checkpoints were written during the catch-up, not only by stop().
      const mid = await store.loadCheckpoint('engine', 0)
      expect(mid?.nextOffset ?? 0).toBeGreaterThan(0)
      await runner.stop()
      let total = 0
      for (let p = 0; p < partitions; p++) total += (await store.loadCheckpoint('engine', p))!.nextOffset
      expect(total).toBe(events.length)
      for (let p = 0; p < partitions; p++) expect((await store.loadCheckpoint('engine', p))!.nextOffset).toBe((await log.offsets(TOPICS.events, p)).end)
    } finally {
      await store.close()
      await log.close()
    }
  })
})
