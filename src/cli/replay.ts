import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { engineOptions, type EngineOptions } from '../engine/engine-options.ts'
import { prepareRules, type EngineRules } from '../engine/engine-rules.ts'
import type { Notification, SegmentChange } from '../engine/records.ts'
import { Replay, type ReplayResult } from '../engine/replay.ts'
import { parseRulesYaml, RuleError } from '../rules/index.ts'
import { progressBar } from './progress.ts'
import { readLineBatches } from './read-lines.ts'
import { NdjsonOutput } from './replay-output.ts'

export interface ReplayCliResult extends ReplayResult {
  /** Wall-clock time: differs from run to run, so the command prints it on stderr only. */
  seconds: number
  eventsPerSecond: number
}

export interface ReplayFileOptions {
  asOf?: number
  partitions: number
  engine?: Partial<EngineOptions>
  /** Client event ids remembered for de-duplication (0 = off); default the collector's 2,000,000. */
  dedupeIds?: number
  /** Writes every segment change and notification, in order, as NDJSON to this path; "-" is stdout. */
  changes?: string
}

/** Something the user must fix in the command or the rules (exit code 2); any other failure is 1. */
export class ReplayUsageError extends Error {
  override readonly name = 'ReplayUsageError'
}

/** One line of `--changes`: the live stream's record, tagged with which stream it belongs to. */
export function changeLine(c: SegmentChange): string {
  return JSON.stringify({ type: 'segment', ...c })
}

export function notificationLine(n: Notification): string {
  return JSON.stringify({ type: 'notification', ...n })
}

/** `tagstream replay`: the engine over an NDJSON file, printing the final members of each segment. */
export async function replayFile(input: string, rulesPath: string, opts: ReplayFileOptions): Promise<ReplayCliResult> {
  const options = engineOptions(opts.engine)
  const rules = loadRules(rulesPath, options)
  if (opts.changes !== undefined && opts.changes !== '-') {
    const target = resolve(opts.changes)
    if (target === resolve(input) || target === resolve(rulesPath)) throw new ReplayUsageError(`--changes ${opts.changes} would overwrite an input of the replay`)
  }
  const started = process.hrtime.bigint()
  const { batches, size, bytesRead } = readLineBatches(input)
  // Opened only once the inputs are known to exist: a failed start leaves an old file alone.
  const out = opts.changes === undefined ? null : openChanges(opts.changes)
  const replay = new Replay(rules, options, opts.partitions, opts.asOf ?? null, opts.dedupeIds === undefined ? {} : { dedupeIds: opts.dedupeIds })
  if (out !== null) {
    replay.onChange = (c) => out.line(changeLine(c))
    replay.onNotification = (n) => out.line(notificationLine(n))
  }
  const bar = progressBar(size, 'bytes', 'replay ')
  try {
    let line = 0
    for await (const lines of readErrorsNamed(input, batches)) {
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
      replay.drainAll()
      bar.update(bytesRead())
      await out?.flush()
    }
    bar.update(size)
    const result = replay.finish()
    await out?.close()
    const seconds = Number(process.hrtime.bigint() - started) / 1e9
    return { ...result, seconds, eventsPerSecond: Math.round(result.events / seconds) }
  } catch (err) {
    out?.abort()
    throw err
  } finally {
    bar.stop()
  }
}

function openChanges(target: string): NdjsonOutput {
  try {
    return NdjsonOutput.open(target)
  } catch (err) {
    throw new Error(`cannot write ${target}: ${(err as Error).message}`, { cause: err })
  }
}

/** Rules that cannot be read are an I/O failure; rules that do not parse are the user's to fix. */
function loadRules(path: string, options: EngineOptions): EngineRules {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    throw new Error(`cannot read ${path}: ${(err as Error).message}`, { cause: err })
  }
  try {
    return prepareRules(parseRulesYaml(text, path), options)
  } catch (err) {
    // The message names the line and column: `segments.x.when: line 3, column 28: …`.
    if (err instanceof RuleError) throw new ReplayUsageError(`${path}: ${err.message}`, { cause: err })
    throw err
  }
}

/**
 * The batches, with a failure to read them (a directory, a corrupt .gz) naming the file. Errors
 * thrown by the loop body do not pass through here: they do not enter the generator.
 */
async function* readErrorsNamed(path: string, batches: AsyncIterable<string[]>): AsyncGenerator<string[]> {
  try {
    yield* batches
  } catch (err) {
    throw new Error(`cannot read ${path}: ${(err as Error).message}`, { cause: err })
  }
}
