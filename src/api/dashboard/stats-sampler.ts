import type { Counter } from 'prom-client'
import type { ApiContext } from '../context.ts'
import { partitionLag } from '../ops/index.ts'
import type { LiveSample } from './live-sample.ts'

export interface SamplerOptions {
  /** Default 1,000 ms. */
  intervalMs: number
  /** Samples kept for a client that connects later. Default 300 (5 minutes at 1 s). */
  historySize: number
}

export const DEFAULT_SAMPLER: SamplerOptions = { intervalMs: 1_000, historySize: 300 }

interface Reading {
  t: number
  accepted: Map<string, number>
  rejected: Map<string, number>
  bytes: number
  duplicates: number
  processed: number
}

/** A sample before it is cut down to one tenant. */
interface ServerSample {
  t: number
  accepted: Map<string, { rate: number; total: number }>
  rejected: Map<string, { rate: number; total: number }>
  bytes: number
  duplicates: number
  processed: number
  lag: number[]
  sizes: Map<string, Record<string, number>>
}

type Listener = (sample: ServerSample) => void

/**
 * Samples what the server already counts (the Prometheus counters of src/api/metrics.ts and the
 * engine snapshot) once per interval, keeps a short history, and hands each sample to the live
 * streams. One sampler per server however many dashboards are open: the cost does not grow with
 * clients, and a dashboard opened late still gets the last minutes.
 */
export class StatsSampler {
  private readonly history: ServerSample[] = []
  private readonly listeners = new Set<Listener>()
  private previous: Reading | null = null
  private timer: NodeJS.Timeout | null = null
  private busy = false
  private stopped = false
  /** Whether the last sample failed: a lasting failure (a stopped engine) is logged once, not every second. */
  private failing = false

  constructor(
    private readonly ctx: ApiContext,
    readonly options: SamplerOptions = DEFAULT_SAMPLER,
  ) {}

  start(): void {
    if (this.timer !== null) return
    void this.tick()
    this.timer = setInterval(() => void this.tick(), this.options.intervalMs)
    this.timer.unref()
  }

  stop(): void {
    this.stopped = true
    if (this.timer !== null) clearInterval(this.timer)
    this.timer = null
    this.listeners.clear()
  }

  subscribe(fn: Listener): () => void {
    this.listeners.add(fn)
    return () => this.listeners.delete(fn)
  }

  /** The retained samples for one tenant, oldest first. */
  historyFor(tenant: string): LiveSample[] {
    return this.history.map((s) => forTenant(s, tenant))
  }

  /** Takes one sample now (the timer calls this; tests may too). Overlapping calls are skipped. */
  async tick(): Promise<void> {
    if (this.busy || this.stopped) return
    this.busy = true
    try {
      const sample = await this.sample()
      // A sample that finishes after stop() (the server closing) is dropped.
      if (sample === null || this.stopped) return
      this.failing = false
      this.history.push(sample)
      if (this.history.length > this.options.historySize) this.history.splice(0, this.history.length - this.options.historySize)
      for (const fn of this.listeners) fn(sample)
    } catch (err) {
      if (!this.failing && !this.stopped) this.ctx.logger.warn({ err }, 'dashboard stats sample failed; retrying every interval (logged again once it has recovered and fails anew)')
      this.failing = true
    } finally {
      this.busy = false
    }
  }

  private async sample(): Promise<ServerSample | null> {
    const { metrics, engine } = this.ctx
    const snapshot = engine.snapshot()
    const reading: Reading = {
      t: Date.now(),
      accepted: await byTenant(metrics.ingestEvents),
      rejected: await byTenant(metrics.rejectedEvents),
      bytes: await total(metrics.ingestBytes),
      duplicates: await total(metrics.duplicateEvents),
      processed: snapshot.processed,
    }
    const prev = this.previous
    this.previous = reading
    // The first reading is only a baseline: a rate needs two.
    if (prev === null) return null
    const seconds = Math.max(0.001, (reading.t - prev.t) / 1000)
    const rate = (now: number, before: number) => Math.max(0, now - before) / seconds
    const perTenant = (now: Map<string, number>, before: Map<string, number>) => {
      const out = new Map<string, { rate: number; total: number }>()
      for (const [tenant, n] of now) out.set(tenant, { rate: rate(n, before.get(tenant) ?? 0), total: n })
      return out
    }
    const sizes = new Map<string, Record<string, number>>()
    for (const tenant of this.tenants()) {
      const list = await engine.segments(tenant)
      sizes.set(tenant, Object.fromEntries(list.map((s) => [s.name, s.size])))
    }
    return {
      t: reading.t,
      accepted: perTenant(reading.accepted, prev.accepted),
      rejected: perTenant(reading.rejected, prev.rejected),
      bytes: rate(reading.bytes, prev.bytes),
      duplicates: rate(reading.duplicates, prev.duplicates),
      processed: rate(reading.processed, prev.processed),
      lag: snapshot.partitions.map(partitionLag),
      sizes,
    }
  }

  /** Every tenant a configured key can read: the sizes of each are sampled, so history exists before anyone looks. */
  private tenants(): Set<string> {
    return new Set(this.ctx.config.keys.filter((k) => k.scopes.includes('read')).map((k) => k.tenant))
  }
}

export function forTenant(s: ServerSample, tenant: string): LiveSample {
  const accepted = s.accepted.get(tenant)
  const rejected = s.rejected.get(tenant)
  return {
    t: s.t,
    events_per_sec: round(accepted?.rate ?? 0),
    rejected_per_sec: round(rejected?.rate ?? 0),
    bytes_per_sec: round(s.bytes),
    duplicates_per_sec: round(s.duplicates),
    processed_per_sec: round(s.processed),
    lag: s.lag,
    events_total: accepted?.total ?? 0,
    rejected_total: rejected?.total ?? 0,
    segments: s.sizes.get(tenant) ?? {},
  }
}

export type { ServerSample }

function round(n: number): number {
  return Math.round(n * 10) / 10
}

async function byTenant(counter: Counter<'tenant'>): Promise<Map<string, number>> {
  const out = new Map<string, number>()
  for (const v of (await counter.get()).values) {
    const tenant = String(v.labels.tenant ?? '')
    out.set(tenant, (out.get(tenant) ?? 0) + v.value)
  }
  return out
}

async function total(counter: Counter): Promise<number> {
  let n = 0
  for (const v of (await counter.get()).values) n += v.value
  return n
}
