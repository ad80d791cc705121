import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { afterAll, describe, expect, it } from 'vitest'
import { ingestFile } from '../../src/cli/ingest-file.ts'
import { decodeEvent, validateEvent, type TrackedEvent } from '../../src/events/index.ts'
import { TOPICS, type EventLog } from '../../src/log/event-log.ts'
import { openEventLog } from '../../src/log/open-log.ts'
import { line, rng, T0 } from '../ingest/fast-path-bodies.ts'
import { tempDir } from '../support/ndjson.ts'

/*
 * `tagstream ingest` end to end on the embedded log: a file of several read chunks, plain and
 * gzipped, with every awkward line the collector's tests know. What lands in `events` and
 * `dead-letters` is checked against each line validated on its own (JSON.parse, validateEvent),
 * in file order per partition.
 */

const PARTITIONS = 4

async function readAll(log: EventLog, topic: string): Promise<Uint8Array[][]> {
  const out: Uint8Array[][] = []
  for (let p = 0; p < PARTITIONS; p++) {
    const records: Uint8Array[] = []
    for (;;) {
      const got = await log.read(topic, p, records.length, { maxRecords: 10_000 })
      if (got.length === 0) break
      records.push(...got.map((r) => r.value))
    }
    out.push(records)
  }
  return out
}

/** What an event is apart from its receive time and the ids the server made up. */
const essence = (e: TrackedEvent) => ({ event: e.event, user_id: e.user_id, anonymous_id: e.anonymous_id, ts: e.ts, properties: e.properties })

describe('tagstream ingest', () => {
  const tmp = tempDir()
  afterAll(() => tmp.remove())
  const r = rng(31)
  const lines: Buffer[] = []
  for (let i = 0; i < 15_000; i++) lines.push(r() < 0.5 ? line(r, [], T0) : Buffer.from(`{"event":"spin","user_id":"u${i % 97}","ts":${T0 - i},"note":"${'é'.repeat(i % 200)}"}`))
  const bytes = Buffer.concat(lines.flatMap((l) => [l, Buffer.from('\n')]))
  // Each line on its own, as the collector's validation sees it (receive time far ahead: no clamp).
  const texts = bytes.toString('utf8').split('\n').slice(0, -1)
  const want = { accepted: 0, rejectedLines: [] as number[] }
  texts.forEach((raw, i) => {
    const text = raw.endsWith('\r') ? raw.slice(0, -1) : raw
    if (text.trim() === '') return
    let item: unknown
    try {
      item = JSON.parse(text)
    } catch {
      want.rejectedLines.push(i + 1)
      return
    }
    if (validateEvent(item, { tenant: 'default', receivedAt: Date.now() }).ok) want.accepted++
    else want.rejectedLines.push(i + 1)
  })

  for (const [name, threads] of [
    ['events.ndjson', true],
    ['events.ndjson.gz', true],
    ['events.ndjson', false],
  ] as const) {
    it(`loads ${name} (${threads ? 'reader threads' : 'one thread'}): every valid line once, in order, every bad one as a dead letter with its line`, async () => {
      expect(bytes.length).toBeGreaterThan(2 << 20)
      const file = join(tmp.dir, name)
      writeFileSync(file, name.endsWith('.gz') ? gzipSync(bytes) : bytes)
      const { log } = await openEventLog(join(tmp.dir, `log-${name.length}-${threads}`), { partitions: PARTITIONS })
      try {
        const got = await ingestFile(log, file, PARTITIONS, 'default', { threads })
        expect(got.accepted).toBe(want.accepted)
        expect(got.rejected).toBe(want.rejectedLines.length)
        expect(got.samples.map((s) => s.line)).toEqual(want.rejectedLines.slice(0, 5))
        const events = (await readAll(log, TOPICS.events)).map((p) => p.map((v) => essence(decodeEvent(v))))
        expect(events.flat().length).toBe(want.accepted)
        // The plain spins of each user arrive in file order, on their user's one partition.
        for (const part of events) {
          const spins = part.filter((e) => e.event === 'spin' && typeof e.properties.note === 'string')
          for (let i = 1; i < spins.length; i++) if (spins[i]!.user_id === spins[i - 1]!.user_id) expect(spins[i]!.ts).toBeLessThan(spins[i - 1]!.ts)
        }
        const letters = (await readAll(log, TOPICS.deadLetters)).flat()
        expect(letters.length).toBe(want.rejectedLines.length)
      } finally {
        await log.close()
      }
    }, 120_000)
  }
})
