import { closeSync, fdatasyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { decodeEvent } from '../src/events/index.ts'
import { EmbeddedEventLog } from '../src/log/embedded/event-log.ts'
import type { Section } from './report.ts'
import { encodedRecords, sampleEvents } from './sample-events.ts'

const BATCH = 1_000
const BATCHES = Number(process.env.BENCH_LOG_BATCHES ?? 5_000)
const CONCURRENCY = 64
const PARTITIONS = 8

/** Durable append and read throughput of the embedded log, against a raw fsync'd file as the ceiling. */
export async function benchLog(): Promise<Section> {
  const records = encodedRecords(sampleEvents(BATCH))
  const avgBytes = records.reduce((a, r) => a + r.value.length, 0) / records.length
  const dir = mkdtempSync(join(tmpdir(), 'tagstream-bench-log-'))
  try {
    const log = await EmbeddedEventLog.open(dir, { retentionCheckMs: 0 })
    await log.createTopic('events', { partitions: PARTITIONS })
    let next = 0
    const t0 = performance.now()
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < BATCHES) {
          const i = next++
          await log.append('events', i % PARTITIONS, records)
        }
      }),
    )
    const appendRate = (BATCHES * BATCH) / ((performance.now() - t0) / 1000)

    const t1 = performance.now()
    let read = 0
    for (let p = 0; p < PARTITIONS; p++) {
      for (let offset = 0; ;) {
        const got = await log.read('events', p, offset, { maxRecords: 50_000 })
        if (got.length === 0) break
        read += got.length
        offset = got[got.length - 1]!.offset + 1
      }
    }
    const readRate = read / ((performance.now() - t1) / 1000)

    const t2 = performance.now()
    let decoded = 0
    for (let offset = 0; ;) {
      const got = await log.read('events', 0, offset, { maxRecords: 50_000 })
      if (got.length === 0) break
      for (const r of got) decoded += decodeEvent(r.value).ts > 0 ? 1 : 0
      offset = got[got.length - 1]!.offset + 1
    }
    const decodeRate = decoded / ((performance.now() - t2) / 1000)
    await log.close()

    const rawRate = rawFileAppendRate(
      dir,
      records.map((r) => r.value),
      avgBytes,
    )
    return {
      title: 'Embedded event log (LMDB)',
      description:
        `${(BATCHES * BATCH).toLocaleString('en-US')} events in batches of ${BATCH} (about 150 bytes as JSON, ${avgBytes.toFixed(0)} bytes in the log's binary envelope), ` +
        `${CONCURRENCY} appends in flight over ${PARTITIONS} partitions; every append resolves only after its transaction is fsync'd. ` +
        "The comparison is the same bytes written to a plain file with one fdatasync per batch: the disk's ceiling for durable batches.",
      figures: [
        { name: 'durable append', value: appendRate, unit: 'events/s', target: '≥ 1,000,000 events/s', met: appendRate >= 1_000_000 },
        { name: 'read (records)', value: readRate, unit: 'events/s' },
        { name: 'read + decode to event objects', value: decodeRate, unit: 'events/s', notes: 'one partition' },
        { name: 'comparison: raw file + fdatasync per batch', value: rawRate, unit: 'events/s' },
      ],
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

function rawFileAppendRate(dir: string, values: Uint8Array[], avgBytes: number): number {
  const body = Buffer.concat(values)
  const path = join(dir, 'raw.bin')
  const fd = openSync(path, 'w')
  const n = Math.min(BATCHES, 2_000)
  const t0 = performance.now()
  for (let i = 0; i < n; i++) {
    writeSync(fd, body)
    fdatasyncSync(fd)
  }
  const rate = (n * BATCH) / ((performance.now() - t0) / 1000)
  closeSync(fd)
  void avgBytes
  return rate
}
