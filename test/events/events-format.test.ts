/**
 * Both formats of the events log give every reader the same event (docs/events.md, "Inside: the
 * stored event"). Generated events go through today's binary envelope (the reference) and through
 * the canonical JSON record; the engine's decoder (decodeEngineRecord: the byte-level JSON reader),
 * the general JSON path (json-record.ts, what any other JSON takes) and decodeEvent (the dashboard)
 * must all give back the reference. Generated request bodies go through the collector's pipeline in
 * both formats and must give the same events, ids included.
 */
import { describe, expect, it } from 'vitest'
import { decodeEngineRecord } from '../../src/engine/engine-record.ts'
import { decodeEvent, decodeEventAt, encodeEvent, encodeEventJson, storedIds, type EventsFormat, type JsonValue, type TrackedEvent } from '../../src/events/index.ts'
import { decodeJsonRecord } from '../../src/events/json-record.ts'
import { readCanonicalEvent } from '../../src/events/json-reader.ts'
import { Deduper } from '../../src/ingest/dedupe.ts'
import { sortBody } from '../../src/ingest/pipeline.ts'
import type { IngestBatch } from '../../src/ingest/batch.ts'
import { mulberry32, type Rng } from '../support/prng.ts'

const AT = { partition: 1, offset: 42, timestamp: Date.UTC(2026, 10, 1) }

/** A plain copy (EventView getters read, the id_assigned flag left out as decoders leave it). */
function plain(e: TrackedEvent): TrackedEvent {
  const out: TrackedEvent = { event: e.event, user_id: e.user_id, ts: e.ts, event_id: e.event_id, tenant: e.tenant, received_at: e.received_at, properties: { ...e.properties } }
  if (e.anonymous_id !== undefined) out.anonymous_id = e.anonymous_id
  return out
}

const pick = <T>(r: Rng, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!

function text(r: Rng): string {
  const alphabet = ['a', 'Z', '0', ' ', '"', '\\', '/', '\n', '\u0001', 'é', '€', '😀', '\u2028', '\ud800', 'x']
  let s = ''
  const n = Math.floor(r() * 12)
  for (let i = 0; i < n; i++) s += pick(r, alphabet)
  return s
}

function scalar(r: Rng): JsonValue {
  const k = r()
  if (k < 0.3) return text(r)
  if (k < 0.45) return Math.floor(r() * 1e6) - 5e5
  if (k < 0.6) return pick(r, [0, -0, 1.5, -2.25e-7, 1e21, 123456789.125, Number.MAX_SAFE_INTEGER, 0.1 + 0.2])
  if (k < 0.7) return r() < 0.5
  if (k < 0.78) return null
  if (k < 0.88) return { a: text(r), n: [1, { b: null }], '1': true }
  return [text(r), 2, false]
}

/** An event as the engine may see it from any of our writers: ids and names of every kind, all property types. */
function generated(r: Rng, i: number): TrackedEvent {
  const props: Record<string, JsonValue> = {}
  const count = Math.floor(r() * 8)
  for (let k = 0; k < count; k++) props[pick(r, ['amount', 'item', 'é_key', 'k"q', '', `p${k}`, 'original_ts', 'x.y'])] = scalar(r)
  const e: TrackedEvent = {
    event: pick(r, ['spin', 'purchase', 'a.b:c-d', '$prediction']),
    user_id: pick(r, ['u1', '17', 'ü-ser', `user-${i}`, 'q"uote']),
    ts: pick(r, [Date.UTC(2026, 10, 1, 10), 1000, Date.UTC(2026, 10, 1) + 0.5, -5]),
    event_id: pick(r, [`e-${i}`, '019a4a4e-0000-7000-8000-000000000000', 'id with \\ and "']),
    tenant: pick(r, ['default', 'acme', 'tenant with space', 'ü']),
    received_at: Date.UTC(2026, 10, 1, 10) + Math.floor(r() * 1000),
    properties: props,
  }
  if (r() < 0.3) e.anonymous_id = pick(r, ['anon-1', '', 'ä'])
  if (r() < 0.3) e.id_assigned = true
  return e
}

/** What the binary envelope gives back: the reference. */
function reference(e: TrackedEvent): TrackedEvent {
  return plain(decodeEventAt(encodeEvent(e), 0, encodeEvent(e).length))
}

describe('the events formats', () => {
  it('give every reader the binary envelope’s event, for generated events (2,000 seeds)', () => {
    const r = mulberry32(23)
    let fast = 0
    for (let i = 0; i < 2_000; i++) {
      const e = generated(r, i)
      const want = reference(e)
      const json = Buffer.from(encodeEventJson(e))
      // Valid JSON, and the documented form: reserved fields and flat properties at the top level.
      const parsed = JSON.parse(json.toString('utf8')) as Record<string, unknown>
      expect(parsed.received_at).toBe(e.received_at)
      if (readCanonicalEvent(json, 0, json.length) !== null) fast++
      // Inside a larger buffer, as the engine and the sink read records.
      const padded = Buffer.concat([Buffer.from('{"x'), json, Buffer.from('1}')])
      const engine = decodeEngineRecord(padded, 3, 3 + json.length, AT.partition, AT.offset, AT.timestamp)
      expect(engine.kind, `seed ${i}`).toBe('event')
      if (engine.kind === 'event') expect(plain(engine.event), `seed ${i}`).toEqual(want)
      const general = decodeJsonRecord(json, AT)
      expect(general.ok && plain(general.event), `seed ${i}`).toEqual(want)
      expect(plain(decodeEvent(json)), `seed ${i}`).toEqual(want)
      const ids = storedIds(json, 0, json.length)
      expect(ids).toEqual({ tenant: e.tenant, eventId: want.event_id, receivedAt: e.received_at, assigned: e.id_assigned === true })
    }
    // Most records take the byte-level reader (nested values, escaped envelope strings take json-record.ts).
    expect(fast).toBeGreaterThan(200)
  })

  it('read a stored event the same way however it is laid out (whitespace, field order: json-record.ts)', () => {
    const e: TrackedEvent = { event: 'spin', user_id: 'u', ts: 5, event_id: 'i', tenant: 'acme', received_at: 9, properties: { bet: 2, s: 'x' } }
    const other = Buffer.from(JSON.stringify({ tenant: 'acme', received_at: 9, bet: 2, event: 'spin', s: 'x', ts: 5, event_id: 'i', user_id: 'u' }, null, 1))
    expect(plain(decodeEventAt(other, 0, other.length))).toEqual(reference(e))
  })

  it('leave to json-record.ts what the byte-level reader cannot read exactly', () => {
    const fast = (s: string) => readCanonicalEvent(Buffer.from(s), 0, Buffer.byteLength(s))
    const head = '{"event":"spin","user_id":"u","ts":5,"event_id":"i","tenant":"default","received_at":9'
    expect(fast(`${head},"a":1}`)).not.toBeNull()
    expect(fast(`${head},"a":{"b":1}}`)).toBeNull() // nested
    expect(fast(`${head},"1a":1}`)).toBeNull() // digit-led key: JSON.parse orders it first
    expect(fast(`${head},"event":"x"}`)).toBeNull() // a reserved name twice: JSON.parse keeps the last
    expect(fast(`${head},"__proto__":1}`)).toBeNull()
    expect(fast(`${head},"a":01}`)).toBeNull() // not JSON
    expect(fast(`${head},"a":"\\x"}`)).toBeNull() // bad escape
    expect(fast(`${head}} `)).toBeNull() // trailing whitespace
    expect(fast(head.replace('"default"', '"a:b"') + '}')).toBeNull() // a colon in the tenant
    expect(fast(head.replace('"u"', '""') + '}')).toBeNull() // empty user_id
    // What json-record.ts then decides: the engine's poison, the same in every reader.
    const bad = Buffer.from(head.replace('"default"', '"a:b"') + '}')
    expect(decodeEngineRecord(bad, 0, bad.length, 0, 0, 0)).toMatchObject({ kind: 'poison', poison: { field: 'tenant' } })
  })
})

/** A request body of `n` generated client events (some with ids, some integer ids, times, escapes, nested values). */
function body(r: Rng, n: number, receivedAt: number): Buffer {
  const items: Array<Record<string, unknown>> = []
  for (let i = 0; i < n; i++) {
    const item: Record<string, unknown> = { event: pick(r, ['spin', 'purchase', 'login']), user_id: pick(r, ['u1', 'u2', 7, 'ü']) }
    if (r() < 0.5) item.event_id = `c-${i}-${Math.floor(r() * 1e6)}`
    if (r() < 0.3) item.anonymous_id = 'anon'
    if (r() < 0.6) item.ts = receivedAt - Math.floor(r() * 1e6)
    if (r() < 0.1) item.ts = receivedAt + 60_000 // clamped: original_ts
    for (let k = 0; k < Math.floor(r() * 5); k++) item[pick(r, ['amount', 'item', 'note', 'n', 'flag'])] = scalar(r)
    items.push(item)
  }
  // Numbers as clients spell them: the JSON writer must not copy `1.50` or `1E2` as sent.
  return Buffer.from(JSON.stringify(items).replace(/"amount":(\d+)([,}])/g, '"amount":$1.0$2'))
}

function collect(bytes: Buffer, format: EventsFormat, receivedAt: number, fastPath: boolean): IngestBatch {
  const deduper = new Deduper({ horizonMs: 3_600_000, maxEntries: 10_000 })
  const got = sortBody(bytes, 'json', 'events', { tenant: 'default', receivedAt, partitions: 4, maxEvents: 10_000, deduper, fastPath, eventsFormat: format })
  if ('status' in got) throw new Error(got.message)
  return got
}

describe('the collector in both formats', () => {
  it('stores the same events, ids and partitions included, fast path or not (300 generated bodies)', () => {
    const r = mulberry32(7)
    for (let i = 0; i < 300; i++) {
      const receivedAt = Date.UTC(2026, 10, 1, 12) + i
      const bytes = body(r, 1 + Math.floor(r() * 20), receivedAt)
      const events = (format: EventsFormat, fastPath: boolean) => {
        return collect(bytes, format, receivedAt, fastPath).groups.map((g) => g.map((rec) => ({ key: rec.key, ts: rec.timestamp, event: plain(decodeEvent(rec.value)) })))
      }
      const binary = events('binary', true)
      const json = events('json', true)
      const strip = (groups: typeof binary) => groups.map((g) => g.map((x) => ({ ...x, event: { ...x.event, event_id: x.event.event_id.length } })))
      // Server-made ids differ between runs (a random part); their length and everything else does not.
      expect(strip(json), `body ${i}`).toEqual(strip(binary))
      expect(strip(events('json', false)), `body ${i}`).toEqual(strip(binary))
      // The fast path writes exactly the canonical JSON encodeEventJson writes for the same event.
      for (const g of collect(bytes, 'json', receivedAt, true).groups) {
        for (const rec of g) {
          const e = decodeEvent(rec.value)
          const assigned = (JSON.parse(Buffer.from(rec.value).toString()) as { id_assigned?: true }).id_assigned
          expect(Buffer.from(rec.value).toString(), `body ${i}`).toBe(encodeEventJson({ ...e, ...(assigned ? { id_assigned: true } : {}) }).toString())
        }
      }
    }
  })
})
