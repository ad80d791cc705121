import { progressBar } from '../cli/progress.ts'
import { AsciiChunks, ascii } from './ascii-chunks.ts'
import { writeChunks } from './ndjson-sink.ts'
import { AMOUNTS, ITEMS, MACHINES, PURCHASE, SPIN, planSlots, type SlotsPlan } from './slots.ts'
import type { SlotsOptions } from './slots-options.ts'

// Every fixed part of a line, encoded once. Key order matches slotsEventAt, so each line is exactly
// JSON.stringify(slotsEventAt(plan, i)); no value needs escaping (ids are digits, names constants).
const PURCHASE_HEAD = ascii(`{"event":"${PURCHASE}","user_id":"`)
const SPIN_HEAD = ascii(`{"event":"${SPIN}","user_id":"`)
const TS_KEY = ascii(`","ts":`)
const BET_KEY = ascii(`,"bet":`)
const MACHINE_TAILS = MACHINES.map((m) => ascii(`,"machine":"${m}"}\n`))
const PURCHASE_TAILS = AMOUNTS.map((a) => ITEMS.map((i) => ascii(`,"amount":${a},"item":"${i}"}\n`)))
const LONGEST_LINE = 256

/** NDJSON in ~1 MiB Buffers of whole lines, in output order; `progress` sees the events done so far. */
export function* slotsNdjsonChunks(plan: SlotsPlan, progress?: (done: number) => void): Generator<Buffer> {
  const out = new AsciiChunks()
  const end = plan.options.end
  for (let i = 0; i < plan.count; i++) {
    if (out.nearlyFull(LONGEST_LINE)) {
      yield out.take()
      progress?.(i)
    }
    const purchase = plan.purchase[i] === 1
    out.bytes(purchase ? PURCHASE_HEAD : SPIN_HEAD)
    out.uint(plan.user[i]!)
    out.bytes(TS_KEY)
    out.uint(end - plan.offset[i]!)
    if (purchase) {
      out.bytes(PURCHASE_TAILS[plan.value[i]!]![plan.prop[i]!]!)
    } else {
      out.bytes(BET_KEY)
      out.uint(plan.value[i]!)
      out.bytes(MACHINE_TAILS[plan.prop[i]!]!)
    }
  }
  if (out.length > 0) yield out.take()
  progress?.(plan.count)
}

export interface WriteSlotsResult {
  events: number
  /** Bytes written to the destination: compressed bytes for .gz. */
  bytes: number
  /** Epoch ms of the latest possible event, the `end` the workload was generated for. */
  end: number
}

/** Generates the slots workload and writes it as NDJSON to `path` (.gz compresses, "-" is stdout). */
export async function writeSlotsNdjson(path: string, options: SlotsOptions = {}): Promise<WriteSlotsResult> {
  const plan = planSlots(options)
  const bar = progressBar(plan.count, 'events', 'simulate slots ')
  try {
    const bytes = await writeChunks(
      path,
      slotsNdjsonChunks(plan, (done) => bar.update(done)),
    )
    return { events: plan.count, bytes, end: plan.options.end }
  } finally {
    bar.stop()
  }
}
