import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { decodeEvent, PREDICTION_EVENT } from '../../src/events/index.ts'
import { TOPICS } from '../../src/log/event-log.ts'
import { openEventLog } from '../../src/log/open-log.ts'
import { readRange } from '../../src/log/read-range.ts'
import { predictRun, RunBusyError, RunStore, type RunRecord } from '../../src/predict/index.ts'
import { tempRoot, writeEvents } from '../warehouse/fixtures.ts'
import { DAY, playerHistories } from './histories.ts'

const END_DAY = 20_400
const AS_OF = END_DAY * DAY + 3_600_000
const PARTITIONS = 2

async function predictionEvents(logDir: string): Promise<ReturnType<typeof decodeEvent>[]> {
  const { log } = await openEventLog(logDir, { partitions: PARTITIONS })
  try {
    const out = []
    for (let p = 0; p < PARTITIONS; p++) {
      const { end } = await log.offsets(TOPICS.events, p)
      for (const r of await readRange(log, TOPICS.events, p, 0, end)) out.push(decodeEvent(r.value))
    }
    return out
  } finally {
    await log.close()
  }
}

describe('prediction runs', () => {
  let data: string
  let events: ReturnType<typeof playerHistories>

  beforeAll(async () => {
    data = tempRoot()
    events = playerHistories({ users: 800, days: 60, endDay: END_DAY, seed: 3 })
    await writeEvents(join(data, 'warehouse'), events)
  })
  afterAll(() => rmSync(data, { recursive: true, force: true }))

  async function run(kind: 'run' | 'train' | 'score', dir = data, seed = 1): Promise<RunRecord> {
    // 5,000 training rows, not 20,000: the same models' quality, a quarter of the fitting time.
    const options = { seed, maxTrainRows: 5_000 }
    if (kind === 'train') return predictRun({ dataDir: dir, kind, asOfMs: AS_OF, options })
    const opened = await openEventLog(join(dir, 'log'), { partitions: PARTITIONS })
    try {
      return await predictRun({ dataDir: dir, kind, asOfMs: AS_OF, options, log: { log: opened.log, partitions: PARTITIONS } })
    } finally {
      await opened.log.close()
    }
  }

  it('trains every model, publishes those that beat their baselines, and appends one prediction per active user', async () => {
    const r = await run('run')
    expect(r.status, r.error ?? '').toBe('succeeded')
    const t = r.tenants.default!
    for (const name of ['purchase_7d', 'churn_7d', 'wealth_30d'] as const) {
      const m = t.training!.models[name]
      expect(m.status, `${name}: ${m.reason}`).toBe('published')
      expect(m.evalRows).toBeGreaterThan(1000)
      const q = m.quality!
      const b = m.baseline.quality!
      if (q.kind === 'classifier' && b.kind === 'classifier') {
        expect(q.rocAuc!).toBeGreaterThan(b.rocAuc! + 0.02)
        expect(q.prAuc!).toBeGreaterThan(b.prAuc!)
        expect(q.calibration).toHaveLength(10)
      } else if (q.kind === 'regression' && b.kind === 'regression') {
        expect(q.mae!).toBeLessThan(b.mae!)
      }
    }
    // Active in the 28 days before the as-of day: the population scored.
    const active = new Set(events.filter((e) => Date.parse(e.ts) >= (END_DAY - 28) * DAY && Date.parse(e.ts) < END_DAY * DAY).map((e) => e.user_id))
    expect(t.scored).toBe(active.size)
    const predictions = await predictionEvents(join(data, 'log'))
    expect(predictions.map((e) => e.user_id).sort()).toEqual([...active].sort())
    for (const e of predictions) {
      expect(e.event).toBe(PREDICTION_EVENT)
      expect(e.properties.model_version).toBe(r.id)
      const p = e.properties.purchase_7d as number
      expect(p).toBeGreaterThanOrEqual(0)
      expect(p).toBeLessThanOrEqual(1)
      expect(typeof e.properties.wealth_30d).toBe('number')
    }
    // The record on disk is what the run returned.
    expect(new RunStore(data).get(r.id)).toEqual(r)
  })

  it('gives the same models for the same warehouse and seed, other rows for another seed', async () => {
    const a = await run('train')
    const b = await run('train')
    const c = await run('train', data, 2)
    const weights = (r: RunRecord) => r.tenants.default!.training!.models.churn_7d.model!.weights
    expect(weights(a)).toEqual(weights(b))
    expect(a.tenants.default!.training!.models.wealth_30d.quality).toEqual(b.tenants.default!.training!.models.wealth_30d.quality)
    expect(weights(c)).not.toEqual(weights(a))
  })

  it('scores with the newest succeeded training run', async () => {
    const trained = await run('train')
    const r = await run('score')
    expect(r.status, r.error ?? '').toBe('succeeded')
    expect(r.modelsFrom).toBe(trained.id)
    expect(r.tenants.default!.scored).toBeGreaterThan(100)
  })

  it('never overlaps two runs; a lock left by a process that is gone is taken over', async () => {
    const store = new RunStore(data)
    const held = store.lock('20260101T000000Z-0000')
    expect('release' in held).toBe(true)
    await expect(run('train')).rejects.toBeInstanceOf(RunBusyError)
    if ('release' in held) held.release()
    mkdirSync(store.dir, { recursive: true })
    writeFileSync(join(store.dir, 'run.lock'), JSON.stringify({ run: 'x', pid: 2 ** 22 + 7, host: (await import('node:os')).hostname() }))
    expect((await run('train')).status).toBe('succeeded')
  })

  it('records a failed run with its reason and appends nothing; the last scores stay', async () => {
    const dir = tempRoot()
    try {
      await writeEvents(join(dir, 'warehouse'), events)
      const first = await run('run', dir)
      expect(first.status).toBe('succeeded')
      const before = (await predictionEvents(join(dir, 'log'))).length
      // A file that is not Parquet: DuckDB refuses the warehouse while the features are read.
      const bad = join(dir, 'warehouse', 'events', 'dt=2025-11-01', 'event=spin')
      mkdirSync(bad, { recursive: true })
      writeFileSync(join(bad, 'part-0-000000900000-000000900001.parquet'), 'not parquet')
      const failed = await run('run', dir)
      expect(failed.status).toBe('failed')
      expect(failed.error).toMatch(/parquet/i)
      expect((await predictionEvents(join(dir, 'log'))).length).toBe(before)
      expect(new RunStore(dir).get(failed.id)?.status).toBe('failed')
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('says how many days a model needs when the warehouse holds too few', async () => {
    const dir = tempRoot()
    try {
      await writeEvents(join(dir, 'warehouse'), playerHistories({ users: 100, days: 15, endDay: END_DAY, seed: 4 }))
      const r = await run('train', dir)
      expect(r.status).toBe('succeeded')
      const models = r.tenants.default!.training!.models
      expect(models.churn_7d.status).toBe('not_trained')
      expect(models.churn_7d.reason).toMatch(/needs 22 days of history before today, the warehouse has 15/)
      expect(models.wealth_30d.reason).toMatch(/needs 45 days/)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('a score run before any training fails and says what to do', async () => {
    const dir = tempRoot()
    try {
      const r = await run('score', dir)
      expect(r.status).toBe('failed')
      expect(r.error).toMatch(/tagstream predict train/)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe("one tenant's data never fails another's run", () => {
  it('a tenant whose wealth values overflow gets its own failure; the other tenants train and score', async () => {
    const dir = tempRoot()
    try {
      const good = playerHistories({ users: 500, days: 50, endDay: END_DAY, seed: 6, tenant: 'good' })
      // Wealth near the largest double: squares and sums of it overflow to Infinity.
      const hostile = playerHistories({ users: 300, days: 50, endDay: END_DAY, seed: 7, tenant: 'hostile' }).map((e) =>
        e.properties?.player_wealth === undefined ? e : { ...e, properties: { ...e.properties, player_wealth: 1e308 * Math.random() } },
      )
      await writeEvents(join(dir, 'warehouse'), [...good, ...hostile])
      const opened = await openEventLog(join(dir, 'log'), { partitions: PARTITIONS })
      let r: RunRecord
      try {
        r = await predictRun({ dataDir: dir, kind: 'run', asOfMs: AS_OF, options: { maxTrainRows: 5_000 }, log: { log: opened.log, partitions: PARTITIONS } })
      } finally {
        await opened.log.close()
      }
      expect(r.status, r.error ?? '').toBe('succeeded')
      expect(r.tenants.good!.published).toEqual(['purchase_7d', 'churn_7d', 'wealth_30d'])
      expect(r.tenants.good!.scored).toBeGreaterThan(100)
      expect(r.tenants.good!.error).toBeNull()
      // The hostile tenant's failure is recorded as its own; its users keep whatever scores they had.
      expect(r.tenants.hostile!.error).toMatch(/^training failed: /)
      expect(r.tenants.hostile!.scored).toBe(0)
      for (const e of await predictionEvents(join(dir, 'log'))) {
        for (const s of ['purchase_7d', 'churn_7d', 'wealth_30d']) {
          const v = e.properties[s]
          expect(v === null || (typeof v === 'number' && Number.isFinite(v)), `${e.tenant} ${s} ${String(v)}`).toBe(true)
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
