import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { CODEC, decodeEvent, PREDICTION_EVENT, type TrackedEvent } from '../../src/events/index.ts'
import { appendEvents } from '../../src/ingest/append-events.ts'
import { TOPICS } from '../../src/log/event-log.ts'
import { openEventLog } from '../../src/log/open-log.ts'
import { readRange } from '../../src/log/read-range.ts'
import { predictRun } from '../../src/predict/index.ts'
import { lifecycleEvents } from '../../src/sim/lifecycle/index.ts'
import { startTestServer, auth } from '../api/harness.ts'
import { writeEvents } from '../warehouse/fixtures.ts'
import { kafkaUrl, until, workerSuite } from '../worker/helpers.ts'

/*
 * The other mode of docs/predictions.md, "How scores reach profiles": the prediction events go to a
 * Kafka log, a `tagstream worker` process (state in Postgres) sets the traits, and a stateless
 * `serve --no-engine` answers the profile and the segment from the workers' checkpoints.
 */
const PARTITIONS = 4
const DAY = 86_400_000
const END = 20_420 * DAY
const RULES = `segments:
  likely_churn:
    when: predicted.churn_7d > 0.5
`

describe('predicted traits with engine workers on Kafka and Postgres', () => {
  const w = workerSuite('predict', RULES, PARTITIONS)
  const { dir, prefix, schema, segments } = w

  it('a worker sets the scores as traits; a collector serves them', async () => {
    const events: TrackedEvent[] = []
    let i = 0
    for (const e of lifecycleEvents({ users: 600, days: 30, end: END, seed: 5 })) {
      const { event, user_id, ts, ...properties } = e
      events.push({ event, user_id, ts, event_id: `w-${i++}`, tenant: 'default', received_at: ts, properties })
    }
    await appendEvents(w.log, events, PARTITIONS)
    // The warehouse as the sink would have filed the same events.
    await writeEvents(
      join(dir, 'warehouse'),
      events.map((e) => ({ event: e.event, user_id: e.user_id, ts: new Date(e.ts).toISOString(), properties: e.properties })),
    )
    const run = await predictRun({ dataDir: dir, kind: 'run', asOfMs: END, options: { maxTrainRows: 5_000 }, log: { log: w.log, partitions: PARTITIONS } })
    expect(run.status, run.error ?? '').toBe('succeeded')
    expect(run.tenants.default!.published).toContain('churn_7d')

    await w.start('p-a').joined
    const collector = await startTestServer({ dataDir: join(dir, 'collector'), engine: false, logUrl: kafkaUrl(prefix), stateUrl: schema.url, partitions: PARTITIONS, segmentsPath: segments })
    try {
      // Each user's score as the run appended it, read back from the log.
      const churn = new Map<string, number>()
      const { log: reader } = await openEventLog(kafkaUrl(prefix), { partitions: PARTITIONS })
      try {
        for (let p = 0; p < PARTITIONS; p++) {
          const { end } = await reader.offsets(TOPICS.events, p)
          for (const r of await readRange(reader, TOPICS.events, p, 0, end)) {
            // Engine records (clock, rules) sit in the same log: only events are decoded.
            if (r.value[0] !== CODEC.VERSION && r.value[0] !== CODEC.OPEN_BRACE) continue
            const e = decodeEvent(r.value)
            if (e.event === PREDICTION_EVENT) churn.set(e.user_id, e.properties.churn_7d as number)
          }
        }
      } finally {
        await reader.close()
      }
      expect(churn.size).toBe(run.tenants.default!.scored)
      const [userId, score] = [...churn][0]!
      const profile = await until(
        'the worker to apply the predictions',
        async () => {
          const r = await fetch(`${collector.url}/v1/profiles/${userId}`, { headers: auth(collector.keys.read) })
          const p = r.status === 200 ? ((await r.json()) as { traits: Record<string, unknown> }) : null
          return p !== null && p.traits['predicted.model_version'] === run.id ? p : undefined
        },
        90_000,
      )
      expect(profile.traits['predicted.churn_7d']).toBeCloseTo(score, 9)
      const expected = [...churn.values()].filter((v) => v > 0.5).length
      await until(
        'likely_churn to hold every user over 0.5',
        async () => {
          const r = (await (await fetch(`${collector.url}/v1/segments`, { headers: auth(collector.keys.read) })).json()) as { segments: Array<{ name: string; size: number }> }
          return r.segments.find((s) => s.name === 'likely_churn')?.size === expected ? true : undefined
        },
        90_000,
      )
    } finally {
      await collector.close()
    }
  })
})
