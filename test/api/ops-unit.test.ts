import { describe, expect, it } from 'vitest'
import type { EngineSnapshot } from '../../src/engine/thread/protocol.ts'
import { ApiMetrics } from '../../src/api/metrics.ts'
import { readiness, refreshEngineGauges, totalLag } from '../../src/api/ops/index.ts'

function snapshot(overrides: Partial<EngineSnapshot> = {}): EngineSnapshot {
  return {
    ready: true,
    partitions: [
      { partition: 0, nextOffset: 10, end: 15, watermark: 1_000 },
      { partition: 1, nextOffset: 7, end: 7, watermark: null },
    ],
    processed: 17,
    late: 3,
    lateDropped: 1,
    segmentChanges: 9,
    notifications: 4,
    segmentSizes: { whale: 2, lapsed: 5 },
    users: 12,
    error: null,
    ...overrides,
  }
}

async function values(metrics: ApiMetrics, name: string): Promise<Array<{ labels: Record<string, string | number>; value: number }>> {
  const metric = metrics.registry.getSingleMetric(name)
  if (!metric) throw new Error(`no metric ${name}`)
  return (await metric.get()).values.map((v) => ({ labels: { ...v.labels } as Record<string, string | number>, value: v.value }))
}

describe('refreshEngineGauges', () => {
  it('copies every engine counter into its gauge', async () => {
    const metrics = new ApiMetrics()
    refreshEngineGauges(metrics, snapshot())
    expect(await values(metrics, 'tagstream_engine_processed_events')).toEqual([{ labels: {}, value: 17 }])
    expect(await values(metrics, 'tagstream_engine_late_events')).toEqual([{ labels: {}, value: 3 }])
    expect(await values(metrics, 'tagstream_engine_late_dropped_events')).toEqual([{ labels: {}, value: 1 }])
    expect(await values(metrics, 'tagstream_segment_changes')).toEqual([{ labels: {}, value: 9 }])
    expect(await values(metrics, 'tagstream_notifications')).toEqual([{ labels: {}, value: 4 }])
  })

  it('reports lag per partition as end - nextOffset', async () => {
    const metrics = new ApiMetrics()
    refreshEngineGauges(metrics, snapshot())
    expect(await values(metrics, 'tagstream_engine_lag_events')).toEqual([
      { labels: { partition: '0' }, value: 5 },
      { labels: { partition: '1' }, value: 0 },
    ])
  })

  it('never reports a negative lag', async () => {
    const metrics = new ApiMetrics()
    refreshEngineGauges(metrics, snapshot({ partitions: [{ partition: 3, nextOffset: 12, end: 10, watermark: null }] }))
    expect(await values(metrics, 'tagstream_engine_lag_events')).toEqual([{ labels: { partition: '3' }, value: 0 }])
  })

  it('drops segments that no longer exist, and partitions no longer reported', async () => {
    const metrics = new ApiMetrics()
    refreshEngineGauges(metrics, snapshot())
    expect(await values(metrics, 'tagstream_segment_members')).toEqual([
      { labels: { segment: 'whale' }, value: 2 },
      { labels: { segment: 'lapsed' }, value: 5 },
    ])
    refreshEngineGauges(metrics, snapshot({ segmentSizes: { lapsed: 6 }, partitions: [{ partition: 1, nextOffset: 1, end: 4, watermark: null }] }))
    expect(await values(metrics, 'tagstream_segment_members')).toEqual([{ labels: { segment: 'lapsed' }, value: 6 }])
    expect(await values(metrics, 'tagstream_engine_lag_events')).toEqual([{ labels: { partition: '1' }, value: 3 }])
    const text = await metrics.registry.metrics()
    expect(text).not.toContain('segment="whale"')
    expect(text).toContain('tagstream_segment_members{segment="lapsed"} 6')
  })

  it('keeps a segment with zero members (it exists, it is empty)', async () => {
    const metrics = new ApiMetrics()
    refreshEngineGauges(metrics, snapshot({ segmentSizes: { empty: 0 } }))
    expect(await values(metrics, 'tagstream_segment_members')).toEqual([{ labels: { segment: 'empty' }, value: 0 }])
  })
})

describe('readiness', () => {
  it('is ready with the total lag and the partition count', () => {
    expect(totalLag(snapshot())).toBe(5)
    expect(readiness(snapshot())).toEqual({ statusCode: 200, body: { status: 'ready', lag: 5, partitions: 2 } })
  })

  it('is starting while the engine catches up', () => {
    expect(readiness(snapshot({ ready: false }))).toEqual({ statusCode: 503, body: { status: 'starting', error: null } })
  })

  it('is failed when the engine reports an error, even after it was ready', () => {
    expect(readiness(snapshot({ error: 'checkpoint write failed' }))).toEqual({ statusCode: 503, body: { status: 'failed', error: 'checkpoint write failed' } })
    expect(readiness(snapshot({ ready: false, error: 'boom' })).body).toEqual({ status: 'failed', error: 'boom' })
  })

  it('is ready with no partitions at all (lag 0)', () => {
    expect(readiness(snapshot({ partitions: [] }))).toEqual({ statusCode: 200, body: { status: 'ready', lag: 0, partitions: 0 } })
  })
})
