import { progressBar } from '../../cli/progress.ts'
import { AsciiChunks, ascii } from '../ascii-chunks.ts'
import { writeChunks } from '../ndjson-sink.ts'
import { KIND_LEVEL_UP, KIND_PURCHASE, KIND_SESSION_START, KIND_SPIN, LIFECYCLE_EVENTS, STRIDE, kindOf, playerOf, timeOf, type DayBuffer } from './day-buffer.ts'
import { lifecycleDays, type LifecycleDays } from './days.ts'
import { PURCHASE_PRICES } from './economy.ts'
import type { LifecycleOptions } from './options.ts'
import { DAY_MS } from './play-day.ts'

// The fixed parts of each line, encoded once. Key order is lifecycleEventAt's (./events.ts), so each
// line is exactly JSON.stringify of that event; no value needs escaping (ids and numbers are digits).
const HEADS = LIFECYCLE_EVENTS.map((e) => ascii(`{"event":"${e}","user_id":"u`))
const TS_KEY = ascii(`","ts":`)
const BONUS_KEY = ascii(`,"bonus":`)
const COST_KEY = ascii(`,"cost":`)
const WIN_KEY = ascii(`,"win":`)
const AMOUNTS = PURCHASE_PRICES.map((p) => ascii(`,"amount":${p},"currency":"USD"`))
const LEVEL_KEY = ascii(`,"level":"`)
const QUOTE = 0x22
const WEALTH_KEY = ascii(`,"player_wealth":`)
const LINE_END = ascii(`}\n`)
const LONGEST_LINE = 256

/** One day's lines, in time order, into `out`; yields each chunk that fills up. */
function* dayLines(buf: DayBuffer, dayStart: number, out: AsciiChunks): Generator<Buffer> {
  const rec = buf.rec
  for (let k = 0; k < buf.count; k++) {
    if (out.nearlyFull(LONGEST_LINE)) yield out.take()
    const r = buf.order[k]! * STRIDE
    const head = rec[r]!
    const a = rec[r + 1]!
    const kind = kindOf(head)
    out.bytes(HEADS[kind]!)
    out.uint(playerOf(head) + 1)
    out.bytes(TS_KEY)
    out.uint(dayStart + timeOf(head))
    if (kind === KIND_SESSION_START) {
      if (a > 0) {
        out.bytes(BONUS_KEY)
        out.uint(a)
      }
    } else if (kind === KIND_SPIN) {
      out.bytes(COST_KEY)
      out.uint(a)
      out.bytes(WIN_KEY)
      out.uint(rec[r + 2]!)
    } else if (kind === KIND_PURCHASE) {
      out.bytes(AMOUNTS[a]!)
    } else if (kind === KIND_LEVEL_UP) {
      out.bytes(LEVEL_KEY)
      out.uint(a)
      out.byte(QUOTE)
    }
    out.bytes(WEALTH_KEY)
    out.uint(rec[r + 3]!)
    out.bytes(LINE_END)
  }
}

/** The run as NDJSON in ~1 MiB Buffers of whole lines; `progress` sees the days and events done so far. */
export function* lifecycleNdjsonChunks(run: LifecycleDays, progress?: (days: number, events: number) => void): Generator<Buffer> {
  const out = new AsciiChunks()
  let events = 0
  for (const buf of run.days) {
    yield* dayLines(buf, run.start + buf.day * DAY_MS, out)
    events += buf.count
    progress?.(buf.day + 1, events)
  }
  if (out.length > 0) yield out.take()
}

export interface WriteLifecycleResult {
  events: number
  /** Bytes written to the destination: compressed bytes for .gz. */
  bytes: number
  start: number
  end: number
}

/** Simulates the run and writes it as NDJSON to `path` (.gz compresses, "-" is stdout), with a progress bar in days. */
export async function writeLifecycleNdjson(path: string, options: LifecycleOptions = {}): Promise<WriteLifecycleResult> {
  const run = lifecycleDays(options)
  // The number of events is known only once the last day is played, so the bar counts days.
  const bar = progressBar(run.options.days, 'days', 'simulate lifecycle ')
  const started = performance.now()
  let events = 0
  try {
    const bytes = await writeChunks(
      path,
      lifecycleNdjsonChunks(run, (days, done) => {
        events = done
        const seconds = Math.max((performance.now() - started) / 1000, 0.001)
        bar.update(days, { info: `${done.toLocaleString('en-US')} events, ${Math.round(done / seconds).toLocaleString('en-US')} events/s` })
      }),
    )
    return { events, bytes, start: run.start, end: run.options.end }
  } finally {
    bar.stop()
  }
}
