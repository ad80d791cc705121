import { engineOptions, type EngineOptions } from '../engine/engine-options.ts'
import { loadEngineRules } from '../engine/engine-rules.ts'
import { Replay, type ReplayResult } from '../engine/replay.ts'
import { parseEventTime } from '../events/event-time.ts'
import { progressBar } from './progress.ts'
import { readLineBatches } from './read-lines.ts'

export interface ReplayCliResult extends ReplayResult {
  seconds: number
  eventsPerSecond: number
}

export function parseAsOf(value: string): number {
  const asNumber = Number(value)
  const t = parseEventTime(Number.isFinite(asNumber) && value.trim() !== '' ? asNumber : value)
  if (!t.ok) throw new Error(`--as-of ${t.reason}`)
  return t.ms
}

/** `tagstream replay`: the engine over an NDJSON file, printing the final members of each segment. */
export async function replayFile(input: string, rulesPath: string, opts: { asOf?: number; partitions: number; engine?: Partial<EngineOptions> }): Promise<ReplayCliResult> {
  const options = engineOptions(opts.engine)
  const rules = loadEngineRules(rulesPath, options)
  const replay = new Replay(rules, options, opts.partitions, opts.asOf ?? null)
  const started = process.hrtime.bigint()
  const { batches, size, bytesRead } = readLineBatches(input)
  const bar = progressBar(size, 'bytes', 'replay ')
  let line = 0
  for await (const lines of batches) {
    for (const text of lines) {
      line++
      if (text.length === 0 || (text.charCodeAt(0) <= 32 && text.trim() === '')) continue
      let raw: unknown
      try {
        raw = JSON.parse(text)
      } catch (err) {
        replay.reject(line, `invalid JSON: ${(err as Error).message}`)
        continue
      }
      replay.push(raw, line)
    }
    bar.update(bytesRead())
  }
  bar.update(size)
  bar.stop()
  const result = replay.finish()
  const seconds = Number(process.hrtime.bigint() - started) / 1e9
  return {
    ...result,
    seconds,
    eventsPerSecond: Math.round(result.events / seconds),
  }
}
