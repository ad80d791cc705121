import { describe, expect, it } from 'vitest'
import { checkBackpressure, maxEngineLag } from '../../src/api/collector/backpressure.ts'

const limits = { maxInflightBytes: 1000, maxEngineLag: 50, retryAfterSeconds: 2 }
const snap = (...lags: number[]) => ({ partitions: lags.map((lag, partition) => ({ partition, nextOffset: 100, end: 100 + lag, watermark: null })) })

describe('checkBackpressure', () => {
  it('admits a request that fits', () => {
    expect(checkBackpressure(500, 500, snap(0, 50), limits)).toBeNull()
  })

  it('refuses with 429 overloaded when in-flight bytes plus the body exceed the limit', () => {
    const r = checkBackpressure(600, 401, snap(0), limits)
    expect(r).toMatchObject({ status: 429, code: 'overloaded', retryAfter: 2 })
    expect(r!.message).toContain('600 bytes of requests in flight (limit 1000)')
  })

  it('admits one request when nothing is in flight, even one larger than the limit', () => {
    expect(checkBackpressure(0, 5000, snap(0), limits)).toBeNull()
  })

  it('refuses with 503 engine_lagging when any partition lags more than maxEngineLag', () => {
    const r = checkBackpressure(0, 10, snap(3, 51, 0), limits)
    expect(r).toMatchObject({ status: 503, code: 'engine_lagging', retryAfter: 2 })
    expect(r!.message).toContain('51 events behind the log (limit 50)')
  })

  it('with maxEngineLag 0, any lag refuses', () => {
    expect(checkBackpressure(0, 10, snap(0, 1), { ...limits, maxEngineLag: 0 })).toMatchObject({ status: 503 })
    expect(checkBackpressure(0, 10, snap(0, 0), { ...limits, maxEngineLag: 0 })).toBeNull()
  })

  it('reports the worst partition lag', () => {
    expect(maxEngineLag(snap(1, 7, 3))).toBe(7)
    expect(maxEngineLag({ partitions: [] })).toBe(0)
  })
})
