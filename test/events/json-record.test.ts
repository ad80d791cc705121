import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { recentEvents } from '../../src/api/dashboard/recent-events.ts'
import { decodeEngineRecord } from '../../src/engine/engine-record.ts'
import { decodeEvent, decodeEventAt, encodeEvent, type TrackedEvent } from '../../src/events/index.ts'
import { decodeJsonRecord, type LogPosition } from '../../src/events/json-record.ts'
import { TOPICS } from '../../src/log/event-log.ts'
import { openEventLog } from '../../src/log/open-log.ts'
import { JSON_LOG_TIME, JSON_RECORD_CASES } from './json-record-cases.ts'

/*
 * One decoder for JSON records of the events log (src/events/json-record.ts): what a client would
 * POST, validated as the collector does, received at the log time. The engine and decodeEvent (the
 * dashboard) give the same event or the same refusal for every shared case.
 */

const at = (offset: number): LogPosition => ({ partition: 3, offset, timestamp: JSON_LOG_TIME })
const H = 3_600_000

function decoded(note: string): TrackedEvent {
  const i = JSON_RECORD_CASES.findIndex((c) => c.note === note)
  const r = decodeJsonRecord(JSON_RECORD_CASES[i]!.value, at(i))
  if (!r.ok) throw new Error(`${note}: ${r.field}: ${r.reason}`)
  return r.event
}

describe('JSON records of the events log', () => {
  it('read as a POSTed event: flat properties, log time as receive time, position as default event_id', () => {
    const i = JSON_RECORD_CASES.findIndex((c) => c.note === 'flat, ISO ts, no event_id')
    expect(decoded('flat, ISO ts, no event_id')).toEqual({
      event: 'purchase',
      user_id: '1',
      ts: Date.UTC(2026, 10, 5, 10),
      event_id: `events:3:${i}`,
      tenant: 'default',
      received_at: JSON_LOG_TIME,
      properties: { amount: 5, currency: 'EUR' },
    })
    expect(decoded('a `properties` field is a property, tenant of its own')).toEqual({
      event: 'purchase',
      user_id: 'u2',
      ts: JSON_LOG_TIME,
      event_id: 'j-2',
      tenant: 'acme',
      received_at: JSON_LOG_TIME,
      properties: { properties: { amount: 5 } },
    })
    expect(decoded('integer user_id')).toMatchObject({ user_id: '7', received_at: JSON_LOG_TIME, properties: { bet: 2.5 } })
    // received_at makes a stored event (what a collector writes in the JSON format): read as written, not validated again.
    expect(decoded('received_at: a stored event, times as written')).toMatchObject({ user_id: '7', ts: 100, received_at: 123, properties: { bet: 2.5 } })
    expect(decoded('ts after the log time: clamped, original_ts kept')).toMatchObject({ ts: JSON_LOG_TIME, properties: { original_ts: JSON_LOG_TIME + H } })
    expect(decoded('anonymous_id only, sent_at corrects ts')).toMatchObject({ user_id: 'anon-1', anonymous_id: 'anon-1', ts: JSON_LOG_TIME - H })
    expect(decoded('fractional epoch ms').ts).toBe(JSON_LOG_TIME - 2_001)
    // The id is the record's position, not one the collector made up: no id_assigned flag.
    expect(decoded('flat, ISO ts, no event_id')).not.toHaveProperty('id_assigned')
  })

  it('refuses what the collector would refuse, naming the field', () => {
    const refusal = (note: string) => {
      const i = JSON_RECORD_CASES.findIndex((c) => c.note === note)
      const r = decodeJsonRecord(JSON_RECORD_CASES[i]!.value, at(i))
      return r.ok ? null : { tenant: r.tenant, field: r.field, reason: r.reason }
    }
    expect(refusal('JSON array')).toEqual({ tenant: null, field: '(event)', reason: 'must be a JSON object' })
    expect(refusal('no event')).toEqual({ tenant: 'default', field: 'event', reason: 'is required' })
    expect(refusal('tenant not a string')).toMatchObject({ tenant: null, field: 'tenant' })
    expect(refusal('string too long')).toMatchObject({ tenant: 'acme', field: 'note' })
    expect(refusal('__proto__ property')).toMatchObject({ field: '__proto__' })
    expect(refusal('not JSON')).toEqual({ tenant: null, field: '(record)', reason: 'unknown encoding (first byte 0x6e): neither an event envelope nor JSON' })
    expect(refusal('not UTF-8')).toEqual({ tenant: null, field: '(record)', reason: 'invalid JSON: not UTF-8' })
    expect(decodeJsonRecord(Buffer.from('{}'), at(0), 1, 1)).toMatchObject({ ok: false, field: '(record)', reason: 'empty record' })
  })

  it('gives the engine and decodeEvent the same event or the same refusal, case by case', () => {
    for (const [i, c] of JSON_RECORD_CASES.entries()) {
      const r = decodeJsonRecord(c.value, at(i))
      expect(r.ok, c.note).toBe(c.event)
      // Inside a larger buffer, as the engine and the sink read records.
      const padded = Buffer.concat([Buffer.from('xx'), c.value, Buffer.from('{')])
      const engine = decodeEngineRecord(padded, 2, 2 + c.value.length, 3, i, JSON_LOG_TIME)
      if (r.ok) {
        expect(engine, c.note).toEqual({ kind: 'event', event: r.event })
        expect(decodeEvent(c.value, at(i)), c.note).toEqual(r.event)
        expect(decodeEventAt(padded, 2, 2 + c.value.length, at(i)), c.note).toEqual(r.event)
      } else {
        expect(engine, c.note).toEqual({ kind: 'poison', poison: { tenant: r.tenant ?? 'default', field: r.field, reason: r.reason } })
        expect(() => decodeEvent(c.value, at(i)), c.note).toThrow(`${r.field}: ${r.reason}`)
      }
    }
  })

  it('decodeEvent reads a JSON record only with its log position; the binary envelope needs none', () => {
    const value = JSON_RECORD_CASES[0]!.value
    expect(() => decodeEvent(value)).toThrow(/log position/)
    const e: TrackedEvent = { event: 'spin', user_id: 'u', ts: JSON_LOG_TIME, event_id: 'b-1', tenant: 'default', received_at: JSON_LOG_TIME, properties: { bet: 1 } }
    expect(decodeEvent(encodeEvent(e))).toEqual(e)
    expect(decodeEvent(encodeEvent(e), at(0))).toEqual(e)
    expect(() => decodeEvent(Buffer.alloc(0), at(0))).toThrow(/empty record/)
  })

  it("shows on the dashboard's recent events of a user as the engine decodes it; a poison one is left out", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tagstream-json-record-'))
    const { log } = await openEventLog(join(dir, 'log'), { partitions: 1, retentionCheckMs: 0 })
    try {
      const mine = { key: 'default:buyer', timestamp: JSON_LOG_TIME }
      const binary: TrackedEvent = { event: 'login', user_id: 'buyer', ts: JSON_LOG_TIME - 5, event_id: 'b-1', tenant: 'default', received_at: JSON_LOG_TIME - 5, properties: {} }
      await log.append(TOPICS.events, 0, [
        { ...mine, value: Buffer.from(encodeEvent(binary)) },
        { ...mine, value: Buffer.from(JSON.stringify({ event: 'purchase', user_id: 'buyer', amount: 5, ts: JSON_LOG_TIME - 1 })) },
        { ...mine, value: Buffer.from(JSON.stringify({ event: 'purchase', user_id: 'buyer', amount: 'x'.repeat(9_000) })) },
        { ...mine, value: Buffer.from('[1,2]') },
      ])
      const got = await recentEvents(log, 1, 'default', 'buyer', 10, 100)
      expect(got.events).toEqual([
        { event: 'purchase', ts: JSON_LOG_TIME - 1, received_at: JSON_LOG_TIME, event_id: 'events:0:1', properties: { amount: 5 }, offset: 1 },
        { event: 'login', ts: JSON_LOG_TIME - 5, received_at: JSON_LOG_TIME - 5, event_id: 'b-1', properties: {}, offset: 0 },
      ])
    } finally {
      await log.close()
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
