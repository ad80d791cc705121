import type { RunningServer } from '../api/server.ts'
import type { TrackedEvent } from '../events/index.ts'
import { appendEvents } from '../ingest/append-events.ts'
import { TOPICS } from '../log/event-log.ts'
import { EVENTS_SINK_GROUP } from '../warehouse/layout.ts'
import { RunStore } from '../predict/run-store.ts'
import { lifecycleEvents } from '../sim/lifecycle/index.ts'

const DAY = 86_400_000

/** The demo's history for the prediction models (docs/simulators.md, "The demo"). */
export const DEMO_HISTORY = { users: 3_000, days: 45, seed: 7, tenant: 'default' } as const

/**
 * On a demo's first start: 45 days of the lifecycle simulator's players (planted signal: buyers who
 * keep buying, players who fade) before today, appended to the log as the simulator's events, then,
 * once the warehouse sink has filed them, one prediction run, so the Predictions page and the
 * profiles' `predicted.*` traits have something to show at once instead of after the first nightly
 * run. Runs in the background; says what it did through `out`.
 */
export async function seedPredictionHistory(server: RunningServer, dataDir: string, out: (line: string) => void, signal: AbortSignal): Promise<void> {
  if (new RunStore(dataDir).ids().length > 0 || server.ctx.predictions === undefined) return
  const end = Math.floor(Date.now() / DAY) * DAY
  let batch: TrackedEvent[] = []
  let n = 0
  for (const e of lifecycleEvents({ users: DEMO_HISTORY.users, days: DEMO_HISTORY.days, end, seed: DEMO_HISTORY.seed })) {
    const { event, user_id, ts, ...properties } = e
    batch.push({ event, user_id, ts, event_id: `demo-history-${n++}`, tenant: DEMO_HISTORY.tenant, received_at: Date.now(), properties })
    if (batch.length === 20_000) {
      if (signal.aborted) return
      await appendEvents(server.ctx.log, batch, server.ctx.partitions, server.ctx.config.eventsFormat)
      batch = []
    }
  }
  await appendEvents(server.ctx.log, batch, server.ctx.partitions, server.ctx.config.eventsFormat)
  const ends = await Promise.all(Array.from({ length: server.ctx.partitions }, async (_, p) => (await server.ctx.log.offsets(TOPICS.events, p)).end))
  out(`predictions: ${n.toLocaleString('en-US')} events of ${DEMO_HISTORY.users.toLocaleString('en-US')} simulated players over ${DEMO_HISTORY.days} days added; training once the warehouse has them`)
  // The run reads the warehouse: wait until the sink has filed the history (a few seconds).
  const filed = async () => (await Promise.all(ends.map(async (end, p) => ((await server.ctx.log.committed(EVENTS_SINK_GROUP, TOPICS.events, p)) ?? 0) >= end))).every(Boolean)
  while (!(await filed())) {
    if (signal.aborted) return
    await new Promise((resolve) => setTimeout(resolve, 1_000))
  }
  // Stopped while the warehouse was being read: no run starts (one would hold the demo's Ctrl-C for
  // its whole length, the abort below having fired already).
  if (signal.aborted) return
  const run = server.ctx.predictions.start('run')
  // A demo stopped mid-run does not wait for it: the server's close stops the run.
  const stopped = new Promise<null>((resolve) => signal.addEventListener('abort', () => resolve(null), { once: true }))
  const record = await Promise.race([run.done, stopped])
  if (record === null) return
  const part = record.tenants[DEMO_HISTORY.tenant]
  out(
    record.status === 'succeeded'
      ? `predictions: models trained (${part?.published.join(', ') || 'none published'}), ${part?.scored ?? 0} players scored: see the dashboard's Predictions page`
      : `predictions: the run failed: ${record.error}`,
  )
}
