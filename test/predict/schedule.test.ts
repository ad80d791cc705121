import { rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { pino } from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import { DEFAULT_SCHEDULE, PredictionSchedule } from '../../src/predict/schedule.ts'
import { RunBusyError, RunStore, type RunRecord } from '../../src/predict/index.ts'
import { PREDICT_DEFAULTS } from '../../src/predict/predict-options.ts'
import { tempRoot } from '../warehouse/fixtures.ts'

const DAY = 86_400_000
const TODAY = 20_500 * DAY
const AT = TODAY + 30 * 60_000

function record(id: string, startedAt: number, status: RunRecord['status']): RunRecord {
  return {
    id,
    kind: 'run',
    status,
    startedAt: new Date(startedAt).toISOString(),
    finishedAt: new Date(startedAt + 1000).toISOString(),
    asOf: new Date(startedAt).toISOString(),
    modelsFrom: null,
    error: status === 'failed' ? 'boom' : null,
    pid: process.pid,
    host: 'h',
    options: PREDICT_DEFAULTS,
    tenants: {},
    timings: {},
  }
}

/** A schedule over a fake clock whose runs end as `outcome` says, recorded in `store`. */
function harness(store: RunStore, outcome: () => RunRecord['status'] | 'busy') {
  let now = 0
  const started: number[] = []
  let n = 0
  const schedule = new PredictionSchedule(
    store,
    () => {
      started.push(now)
      const o = outcome()
      if (o === 'busy') return { done: Promise.reject(new RunBusyError('elsewhere')), stop: async () => undefined }
      const r = record(`20300101T00000${n++}Z-000${n}`, now, o)
      store.save(r)
      return { done: Promise.resolve(r), stop: async () => undefined }
    },
    pino({ level: 'silent' }),
    { ...DEFAULT_SCHEDULE, checkMs: 3_600_000 },
    () => now,
  )
  return {
    schedule,
    started,
    async at(t: number) {
      now = t
      schedule.check()
      // Let the run's promise settle.
      await new Promise((r) => setTimeout(r, 5))
    },
    begin(t: number) {
      now = t
      schedule.begin()
    },
  }
}

describe('the daily prediction schedule', () => {
  const dirs: string[] = []
  const store = () => {
    const d = tempRoot()
    dirs.push(d)
    return new RunStore(d)
  }
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
  })

  it('runs once a day at its time, not before', async () => {
    const h = harness(store(), () => 'succeeded')
    h.begin(TODAY + 60_000)
    await h.at(AT - 1)
    expect(h.started).toEqual([])
    await h.at(AT)
    await h.at(AT + 3 * 3_600_000)
    expect(h.started).toEqual([AT])
    await h.at(AT + DAY + 5)
    expect(h.started).toEqual([AT, AT + DAY + 5])
    await h.schedule.stop()
  })

  it('tries a failed day again an hour later, at most three times', async () => {
    const h = harness(store(), () => 'failed')
    h.begin(TODAY)
    for (let m = 0; m < 6 * 60; m += 10) await h.at(AT + m * 60_000)
    expect(h.started).toEqual([AT, AT + 3_600_000, AT + 2 * 3_600_000])
    await h.schedule.stop()
  })

  it('a busy lock is no attempt: it starts when the other run is done', async () => {
    let busy = true
    const h = harness(store(), () => (busy ? 'busy' : 'succeeded'))
    h.begin(TODAY)
    await h.at(AT)
    await h.at(AT + 60_000)
    busy = false
    await h.at(AT + 2 * 60_000)
    await h.at(AT + 3 * 60_000)
    expect(h.started).toEqual([AT, AT + 60_000, AT + 2 * 60_000])
    await h.schedule.stop()
  })

  it('after a restart: a day already run is done; a missed day is caught up where daily runs happened before, not on a new data directory', async () => {
    const done = store()
    done.save(record('20300101T003000Z-0001', AT + 1000, 'succeeded'))
    const h1 = harness(done, () => 'succeeded')
    h1.begin(AT + 2 * 3_600_000)
    await h1.at(AT + 3 * 3_600_000)
    expect(h1.started).toEqual([])

    const missed = store()
    missed.save(record('20300101T003000Z-0002', AT - DAY, 'succeeded'))
    const h2 = harness(missed, () => 'succeeded')
    h2.begin(AT + 2 * 3_600_000)
    expect(h2.started).toEqual([AT + 2 * 3_600_000])

    const fresh = harness(store(), () => 'succeeded')
    fresh.begin(AT + 2 * 3_600_000)
    await fresh.at(AT + 5 * 3_600_000)
    expect(fresh.started).toEqual([])
    await fresh.at(AT + DAY)
    expect(fresh.started).toEqual([AT + DAY])
    for (const h of [h1, h2, fresh]) await h.schedule.stop()
  })
})

describe('run records', () => {
  it('a finished record is read from disk once, then kept: listing runs costs no parse per request', () => {
    const dir = tempRoot()
    try {
      const store = new RunStore(dir)
      store.save(record('20300101T003000Z-00aa', AT, 'succeeded'))
      expect(store.get('20300101T003000Z-00aa')?.status).toBe('succeeded')
      // Finished records are never rewritten: a second read need not touch the file.
      writeFileSync(join(store.dir, 'runs', '20300101T003000Z-00aa.json'), 'not json')
      expect(store.list(5).map((r) => r.id)).toEqual(['20300101T003000Z-00aa'])
      // A running record is read afresh each time (it is still being written).
      store.save(record('20300101T003001Z-00bb', AT, 'running'))
      store.get('20300101T003001Z-00bb')
      writeFileSync(join(store.dir, 'runs', '20300101T003001Z-00bb.json'), 'not json')
      expect(store.get('20300101T003001Z-00bb')).toBeNull()
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
