import type { DeadLetter } from '../../src/ingest/dead-letters.ts'
import { TOPICS, type EventLog } from '../../src/log/event-log.ts'
import type { PartitionWorker } from '../../src/engine/partition-worker.ts'
import { mulberry32 } from '../support/prng.ts'

/** Every dead letter the engine wrote (source `engine`), all partitions of the dead-letters log. */
export async function engineDeadLetters(log: EventLog): Promise<DeadLetter[]> {
  const partitions = (await log.partitionCount(TOPICS.deadLetters)) ?? 0
  const out: DeadLetter[] = []
  for (let p = 0; p < partitions; p++) {
    for (let offset = 0; ;) {
      const got = await log.read(TOPICS.deadLetters, p, offset, { maxRecords: 10_000 })
      if (got.length === 0) break
      for (const r of got) {
        const d = JSON.parse(Buffer.from(r.value).toString()) as DeadLetter
        if (d.source === 'engine') out.push(d)
      }
      offset = got[got.length - 1]!.offset + 1
    }
  }
  return out
}

/** Polls until the partition has read its log to the end as it is now, then makes outputs durable. */
export async function drain(worker: PartitionWorker, log: EventLog): Promise<void> {
  const { end } = await log.offsets(TOPICS.events, worker.partition)
  while (worker.nextOffset < end) await worker.poll(0)
  await worker.flushOutputs()
}

/** A small deterministic PRNG (test/support/prng.ts), so a failing seed reproduces. */
export const prng = mulberry32
