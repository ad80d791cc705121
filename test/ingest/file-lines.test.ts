import { describe, expect, it } from 'vitest'
import type { IngestBatch } from '../../src/ingest/batch.ts'
import { deadLetterRecord } from '../../src/ingest/dead-letters.ts'
import { FALLBACK, type FastPathOptions } from '../../src/ingest/fast-path-encoder.ts'
import { FileLines } from '../../src/ingest/file-lines.ts'
import type { FramedRecords } from '../../src/log/framed.ts'
import { RequestIds } from '../../src/ingest/ids.ts'
import { line, rng, T0 } from './fast-path-bodies.ts'
import { SEED } from './differential.ts'

/*
 * `tagstream ingest` reads each chunk of lines with the collector's byte-level reader. The reference
 * is the same reader with every line declined: JSON.parse and the collector's sorter for each line,
 * which is what ingest did to every line before. Same events (bytes, partitions, keys, times, order,
 * the server's ids), same rejections and dead letters, on generated awkward lines.
 */

/** Every line the slow way: the reader before the byte-level path. */
class AllSlow extends FileLines {
  protected override element(): number {
    return FALLBACK
  }
}

const PARTITIONS = 6

function options(receivedAt: number): FastPathOptions {
  return { tenant: 'default', receivedAt, partitions: PARTITIONS, maxEvents: Number.POSITIVE_INFINITY, deduper: null, ids: new RequestIds(receivedAt, SEED), source: 'file:x.ndjson' }
}

function outcome(frames: FramedRecords[], b: IngestBatch) {
  return {
    // The frames as the embedded log would store them, byte for byte.
    frames: frames.map((f) => f.seal(T0).toString('hex')),
    groups: b.groups.map((g) => g.length),
    accepted: b.accepted,
    rejected: b.rejected,
    letters: b.letters.map((d) => Buffer.from(deadLetterRecord(d).value).toString('hex')),
  }
}

describe('tagstream ingest: the byte-level line reader', () => {
  it('gives what JSON.parse and the sorter give for every line, on awkward generated lines', () => {
    const r = rng(21)
    let events = 0
    let rejected = 0
    let slow = 0
    for (let chunk = 0; chunk < 60; chunk++) {
      const used: string[] = []
      const lines: Buffer[] = []
      for (let i = 0; i < 200; i++) lines.push(line(r, used, T0), Buffer.from('\n'))
      // Some chunks end without a line break (a file's last line).
      const bytes = Buffer.concat(chunk % 7 === 0 ? lines.slice(0, -1) : lines)
      // Half the chunks are received before some of their times: those are clamped, the slow path's work.
      const receivedAt = chunk % 2 === 0 ? T0 + 3_600_000 : T0 - 1_800_000
      const first = chunk * 1000
      const fast = new FileLines(bytes, options(receivedAt))
      const fastLines = fast.readLines(first)
      const ref = new AllSlow(bytes, options(receivedAt))
      const refLines = ref.readLines(first)
      expect(fastLines).toBe(refLines)
      const read = FileLines.read(bytes, first, options(receivedAt))
      const got = outcome(read.frames, read.batch)
      expect(got).toEqual(outcome(ref.frames, ref['out'] as IngestBatch))
      // The records a frame holds are the ones the sorter made for the same lines.
      expect(read.frames.flatMap((f) => f.records()).length).toBe(got.accepted)
      events += got.accepted
      rejected += got.rejected.length
      slow += (fast['out'] as IngestBatch).validated
    }
    // Both sides reached: most events read byte by byte, rejections of many kinds, slow lines.
    expect(events).toBeGreaterThan(5_000)
    expect(rejected).toBeGreaterThan(500)
    expect(slow).toBeLessThan(events)
    expect(slow).toBeGreaterThan(1_000)
  })
})
