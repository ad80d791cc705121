/**
 * End to end in both formats of the events log: the same workload appended as JSON records and as
 * binary envelopes (into two embedded logs) gives the same segment changes, the same users and the
 * same warehouse rows, offset for offset. A third log holds both formats, alternating: a log
 * written before and after a change of the setting reads the same too.
 */
import { rmSync } from 'node:fs'
import { pino } from 'pino'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { engineOptions } from '../../src/engine/engine-options.ts'
import { prepareRules } from '../../src/engine/engine-rules.ts'
import { DEFAULT_WORKER_OPTIONS, PartitionWorker } from '../../src/engine/partition-worker.ts'
import { type EventsFormat, type TrackedEvent } from '../../src/events/index.ts'
import { appendEvents } from '../../src/ingest/append-events.ts'
import { TOPICS, type EventLog } from '../../src/log/event-log.ts'
import { parseRulesYaml } from '../../src/rules/index.ts'
import { EmbeddedStateStore } from '../../src/state/embedded/state-store.ts'
import { runSinkOnce } from '../../src/warehouse/sink/index.ts'
import { logAndWarehouse, query, workload } from '../warehouse/sink-helpers.ts'
import { drain } from './poison-support.ts'

const dirs: string[] = []
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

const options = engineOptions()
const rules = prepareRules(
  parseRulesYaml(`segments:
  spender:
    when: sum(in_app_purchase.amount) >= 5
  spinner:
    when: count(spin, 1h) >= 3
  winner:
    when: count(spin where win == true) >= 2
`),
  options,
)

interface Run {
  changes: unknown[][]
  users: unknown[]
  rows: Array<Record<string, unknown>>
}

/** Appends the workload (each batch in `format(batch index)`), runs the engine over every partition and the warehouse sink once. */
async function run(events: readonly TrackedEvent[], format: (batch: number) => EventsFormat): Promise<Run> {
  const { tmp, log, partitions, root } = await logAndWarehouse('tagstream-format-e2e-', dirs)
  for (let i = 0, b = 0; i < events.length; i += 250, b++) await appendEvents(log, events.slice(i, i + 250), partitions, format(b))
  const store = EmbeddedStateStore.open(join(tmp, 'state'))
  const changes: unknown[][] = []
  const users: unknown[] = []
  try {
    for (let p = 0; p < partitions; p++) {
      const w = new PartitionWorker(log, store, rules, options, p, { ...DEFAULT_WORKER_OPTIONS, clockTickMs: 0 }, pino({ level: 'silent' }))
      await w.restore()
      await drain(w, log)
      expect(w.engine.stats.poison).toBe(0)
      changes.push(await values(log, TOPICS.segmentChanges, p))
      // Each segment's members, and a few users' whole state.
      for (let s = 0; s < 3; s++) users.push(w.engine.members(s).map((u) => u.userId))
      for (const id of ['1', '2', '17', '150', 'anon-3']) users.push(w.engine.getUser('default', id) ?? null)
      await w.checkpoint()
    }
    await runSinkOnce(log, root, { flushRows: 700 })
  } finally {
    await store.close()
    await log.close()
  }
  const rows = await query(root, (from) => `SELECT * EXCLUDE (dt) FROM ${from} ORDER BY "partition", "offset"`)
  return { changes, users, rows }
}

async function values(log: EventLog, topic: string, partition: number): Promise<unknown[]> {
  const out: unknown[] = []
  for (let offset = 0; ;) {
    const got = await log.read(topic, partition, offset, { maxRecords: 10_000 })
    if (got.length === 0) return out
    for (const r of got) out.push(JSON.parse(Buffer.from(r.value).toString('utf8')))
    offset = got[got.length - 1]!.offset + 1
  }
}

describe('the same workload in both formats', () => {
  it('gives the same segment changes, users and warehouse rows', { timeout: 120_000 }, async () => {
    const events = workload(3_000)
    const binary = await run(events, () => 'binary')
    const json = await run(events, () => 'json')
    const mixed = await run(events, (b) => (b % 2 === 0 ? 'json' : 'binary'))
    expect(binary.changes.flat().length).toBeGreaterThan(50)
    expect(binary.rows).toHaveLength(events.length)
    expect(json.changes).toEqual(binary.changes)
    expect(json.users).toEqual(binary.users)
    expect(json.rows).toEqual(binary.rows)
    expect(mixed.changes).toEqual(binary.changes)
    expect(mixed.rows).toEqual(binary.rows)
  })
})
