/**
 * Seed 000's progress figures as Prometheus series per worker (docs/operations.md, "Progress
 * lines"): each `tagstream worker --metrics-port` serves its own /metrics; the figures add up to
 * the events of the log, and the listener refuses what it does not serve.
 */
import { describe, expect, it } from 'vitest'
import { appendEvents } from '../../src/ingest/append-events.ts'
import { holders, owners, RULES, until, workerSuite, workload } from './helpers.ts'

const PARTITIONS = 4

/** A series' value per worker label, from the Prometheus text. */
function series(text: string, name: string): Record<string, number> {
  const out: Record<string, number> = {}
  for (const m of text.matchAll(new RegExp(`^${name}\\{worker="([^"]+)"\\} (\\S+)$`, 'gm'))) out[m[1]!] = Number(m[2])
  return out
}

describe('tagstream worker --metrics-port', () => {
  const w = workerSuite('metrics', RULES, PARTITIONS)

  it("serves each worker's progress figures; together they count every event of the log", async () => {
    const procs = ['m-a', 'm-b'].map((id) => w.start(id, ['--metrics-port', '0', '--progress-ms', '200']))
    await Promise.all(procs.map((p) => p.joined))
    const urls = procs.map((p) => (JSON.parse(p.out.trim().split('\n')[0]!) as { metrics: string }).metrics)
    expect(urls.every((u) => /^http:\/\/127\.0\.0\.1:\d+\/metrics$/.test(u))).toBe(true)
    // The split settled first: a partition handed over later is replayed from its checkpoint and counted again.
    await until('two partitions each', async () => {
      const o = owners(await holders(w.prefix, w.schema.schema))
      return o['m-a']?.length === 2 && o['m-b']?.length === 2 ? true : undefined
    })
    const events = workload(6_000, 200, 3)
    await appendEvents(w.log, events, PARTITIONS)
    const logs = () => procs.map((p) => p.stderr.slice(-2_000)).join('\n')
    const texts = await until(
      'both workers to report every event',
      async () => {
        const got = await Promise.all(urls.map(async (u) => await (await fetch(u)).text()))
        const total = got.reduce((n, t) => n + Object.values(series(t, 'tagstream_worker_processed_events')).reduce((a, b) => a + b, 0), 0)
        return total === events.length ? got : undefined
      },
      60_000,
      logs,
    )
    for (const [i, id] of ['m-a', 'm-b'].entries()) {
      const t = texts[i]!
      // One worker's own series only, labelled with its id.
      expect(Object.keys(series(t, 'tagstream_worker_processed_events'))).toEqual([id])
      for (const name of ['runtime_seconds', 'events_per_second', 'interval_events_per_second', 'toggled_users', 'active_users', 'tagged_users', 'users']) {
        expect(series(t, `tagstream_worker_${name}`)[id], name).toBeGreaterThanOrEqual(0)
      }
      expect(series(t, 'tagstream_worker_runtime_seconds')[id]).toBeGreaterThan(0)
      // Its two partitions, each caught up (read at the scrape, not at the last progress line).
      expect(series(t, 'tagstream_worker_partitions')[id]).toBe(2)
      const lag = [...t.matchAll(new RegExp(`^tagstream_worker_partition_lag\\{worker="${id}",partition="(\\d+)"\\} (\\S+)$`, 'gm'))].map((m) => [Number(m[1]), Number(m[2])])
      expect(lag.map(([p]) => p).sort()).toEqual(owners(await holders(w.prefix, w.schema.schema))[id]!.sort())
      expect(lag.every(([, behind]) => behind === 0)).toBe(true)
      expect(t).toContain('tagstream_process_cpu_seconds_total')
    }
    const base = urls[0]!.replace(/\/metrics$/, '')
    expect((await fetch(`${base}/healthz`)).status).toBe(200)
    expect((await fetch(`${base}/nope`)).status).toBe(404)
    expect((await fetch(`${base}/metrics`, { method: 'POST', body: 'x' })).status).toBe(405)
  })
})
