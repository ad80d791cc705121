import { describe, expect, it } from 'vitest'
import type { LogRecord } from '../../src/log/event-log.ts'
import { SseParser } from '../../src/api/streams/client.ts'
import { CursorError, decodeCursor, encodeCursor } from '../../src/api/streams/cursor.ts'
import { NOTIFICATIONS, SEGMENT_CHANGES } from '../../src/api/streams/kinds.ts'
import { parseNameList, selectRecord } from '../../src/api/streams/records.ts'
import { sseComment, sseFrame } from '../../src/api/streams/sse.ts'

describe('stream cursors', () => {
  it('encodes offsets in base 36 behind a version and stream tag', () => {
    expect(encodeCursor(SEGMENT_CHANGES, [0, 100, 47])).toBe('v1.s.0.2s.1b')
    expect(encodeCursor(NOTIFICATIONS, [0])).toBe('v1.n.0')
  })

  it('round-trips, including large offsets', () => {
    const offsets = [0, 1, 35, 36, 1_000_000, Number.MAX_SAFE_INTEGER, 7, 8]
    expect(decodeCursor(SEGMENT_CHANGES, 8, encodeCursor(SEGMENT_CHANGES, offsets))).toEqual(offsets)
  })

  const bad: Array<[string, RegExp]> = [
    ['', /must start with "v1\."/],
    ['v2.s.0.0', /must start with "v1\."/],
    ['garbage', /must start with "v1\."/],
    ['v1.n.0.0', /belongs to \/v1\/notifications, not \/v1\/segment-changes/],
    ['v1.x.0.0', /unknown stream tag "x"/],
    ['v1.s.0', /has 1 partition offset; this stream has 2 partitions/],
    ['v1.s.0.0.0', /has 3 partition offsets; this stream has 2 partitions/],
    ['v1.s.0.-1', /offset of partition 1 \("-1"\) is not a base-36 number/],
    ['v1.s.0.', /offset of partition 1 \(""\) is not a base-36 number/],
    ['v1.s.01.0', /offset of partition 0 \("01"\) is not a base-36 number/],
    ['v1.s.A.0', /offset of partition 0 \("A"\)/],
    ['v1.s.zzzzzzzzzzzzzz.0', /offset of partition 0/],
  ]
  it.each(bad)('refuses %j with a precise message', (cursor, message) => {
    expect(() => decodeCursor(SEGMENT_CHANGES, 2, cursor)).toThrow(CursorError)
    expect(() => decodeCursor(SEGMENT_CHANGES, 2, cursor)).toThrow(message)
  })
})

describe('SSE framing', () => {
  it('writes id, event and data lines and a blank line', () => {
    expect(sseFrame({ id: 'v1.s.1', event: 'segment-change', data: '{"a":1}' })).toBe('id: v1.s.1\nevent: segment-change\ndata: {"a":1}\n\n')
  })

  it('splits multi-line data and keeps other fields on one line', () => {
    expect(sseFrame({ data: 'a\nb\r\nc', event: 'x\ny' })).toBe('event: x y\ndata: a\ndata: b\ndata: c\n\n')
    expect(sseFrame({ retry: 1000, id: 'v1.s.0' })).toBe('retry: 1000\nid: v1.s.0\n\n')
    expect(sseComment('keep-alive')).toBe(': keep-alive\n\n')
  })

  it('parses frames split across chunks, comments and id-only frames', () => {
    const p = new SseParser()
    const text = 'retry: 1000\nid: v1.s.0\n\n: keep-alive\n\nid: v1.s.1\nevent: segment-change\ndata: {"a":1}\n\ndata: x\r\ndata: y\n\n'
    const frames = [...text].flatMap((ch) => p.push(ch))
    expect(frames.map((f) => [f.event, f.data, f.id, f.lastEventId, f.comments, f.retry])).toEqual([
      [null, null, 'v1.s.0', 'v1.s.0', [], 1000],
      [null, null, null, 'v1.s.0', ['keep-alive'], null],
      ['segment-change', '{"a":1}', 'v1.s.1', 'v1.s.1', [], null],
      [null, 'x\ny', null, 'v1.s.1', [], null],
    ])
    expect(p.lastEventId).toBe('v1.s.1')
  })
})

describe('record selection', () => {
  const rec = (offset: number, value: object, key = `${(value as { tenant: string }).tenant}:u1`): LogRecord => ({
    offset,
    key,
    value: Buffer.from(JSON.stringify(value)),
    timestamp: 0,
  })
  const change = { segment: 'whale', tenant: 'default', user_id: 'u1', change: 'entered', at: 5, values: {}, version: 1 }

  it('adds partition and offset to the record', () => {
    expect(selectRecord(SEGMENT_CHANGES, 3, rec(9, change), { tenant: 'default', only: null })).toEqual({ ...change, partition: 3, offset: 9 })
  })

  it('keeps only the tenant, by key prefix and by the record field', () => {
    expect(selectRecord(SEGMENT_CHANGES, 0, rec(0, { ...change, tenant: 'acme' }), { tenant: 'default', only: null })).toBeNull()
    // A key that happens to start with "default:" (tenant "default:x") is caught by the field check.
    expect(selectRecord(SEGMENT_CHANGES, 0, rec(0, { ...change, tenant: 'default:x' }, 'default:x:u1'), { tenant: 'default', only: null })).toBeNull()
    expect(selectRecord(SEGMENT_CHANGES, 0, rec(0, { ...change, tenant: 'acme' }), { tenant: null, only: null })).not.toBeNull()
  })

  it('filters by segment or trigger name', () => {
    const only = new Set(['whale'])
    expect(selectRecord(SEGMENT_CHANGES, 0, rec(0, change), { tenant: null, only })).not.toBeNull()
    expect(selectRecord(SEGMENT_CHANGES, 0, rec(0, { ...change, segment: 'minnow' }), { tenant: null, only })).toBeNull()
    const n = { trigger: 'whale', emit: 'notification', tenant: 'default', user_id: 'u1', event: 'x', event_id: 'e', at: 1, properties: {}, values: {} }
    expect(selectRecord(NOTIFICATIONS, 0, rec(0, n), { tenant: null, only })).not.toBeNull()
  })

  it('skips values that are not JSON objects', () => {
    const raw: LogRecord = { offset: 0, key: null, value: Buffer.from('not json'), timestamp: 0 }
    expect(selectRecord(SEGMENT_CHANGES, 0, raw, { tenant: null, only: null })).toBeNull()
  })

  it('parses name lists', () => {
    expect(parseNameList(undefined)).toBeNull()
    expect(parseNameList('')).toBeNull()
    expect(parseNameList('a, b,,a')).toEqual(new Set(['a', 'b']))
    expect(parseNameList(['a', 'c'])).toEqual(new Set(['a', 'c']))
  })
})
