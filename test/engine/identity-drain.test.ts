import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { engineOptions } from '../../src/engine/engine-options.ts'
import { EngineRunner } from '../../src/engine/engine-runner.ts'
import { prepareRules } from '../../src/engine/engine-rules.ts'
import { validateEvent, type TrackedEvent } from '../../src/events/index.ts'
import { appendEvents } from '../../src/ingest/append-events.ts'
import { openEventLog } from '../../src/log/open-log.ts'
import { parseRulesYaml } from '../../src/rules/index.ts'
import { EmbeddedStateStore } from '../../src/state/embedded/state-store.ts'
import { TOPICS, type EventLog } from '../../src/log/event-log.ts'
import { LINK } from '../../src/engine/user-state.ts'

// EngineRunner.drain (tests, crash children, the CLI) returns once every partition has read what
// the others appended to it. A checkpoint under way takes the appends issued before it to wait on
// itself; a drain that did not wait for it too returned with identity records still in flight, and
// their links stayed pending (seen in CI, under load). Slow appends make that window wide here.

const dir = mkdtempSync(join(tmpdir(), 'tagstream-identity-drain-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** The log with every append to the events topic taking 100 ms more to be durable (fsync under load). */
function slowAppends(log: EventLog): EventLog {
  return new Proxy(log, {
    get(target, key, receiver) {
      if (key === 'append') {
        return async (...args: Parameters<EventLog['append']>) => {
          if (args[0] === TOPICS.events) await new Promise((r) => setTimeout(r, 100))
          return target.append(...args)
        }
      }
      const v: unknown = Reflect.get(target, key, receiver)
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v
    },
  })
}

describe('EngineRunner.drain with identity traffic', () => {
  it('returns only once every claim is answered, even with checkpoints under way', async () => {
    const options = engineOptions()
    const rules = prepareRules(parseRulesYaml('segments:\n  r:\n    when: count(app_open) >= 2\n'), options)
    const { log, partitions } = await openEventLog(join(dir, 'log'), { partitions: 4 })
    const store = EmbeddedStateStore.open(join(dir, 'state'))
    const ts = Date.UTC(2026, 10, 1, 10)
    const mk = (raw: object): TrackedEvent => {
      const v = validateEvent(raw, { receivedAt: ts + 60_000 })
      if (!v.ok) throw new Error(v.error.reason)
      return v.event
    }
    const events: TrackedEvent[] = []
    for (let i = 0; i < 400; i++) events.push(mk({ event: 'app_open', anonymous_id: `dev-${i}`, ts: ts + i }))
    for (let i = 0; i < 400; i++) events.push(mk({ event: 'identify', user_id: `user-${i}`, anonymous_id: `dev-${i}`, ts: ts + 1000 + i }))
    await appendEvents(log, events, partitions)
    // One poll a partition reads all its events and starts a checkpoint, which takes the identity
    // appends of that poll to wait on; the appends are slow to become durable.
    const runner = await EngineRunner.create(slowAppends(log), store, rules, options, [0, 1, 2, 3], { checkpointIntervalMs: 0, batchSize: 5_000, clockTickMs: 0 })
    try {
      await runner.drain(log)
      const states = runner.workers.flatMap((w) => [...w.engine.allUsers()].flatMap((u) => [...(u.links?.values() ?? [])]))
      expect(states.length).toBe(400)
      expect(states.filter((s) => s !== LINK.linked)).toEqual([])
    } finally {
      await runner.stop()
      await store.close()
      await log.close()
    }
  })
})
