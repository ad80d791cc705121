import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { engineOptions, type EngineOptions } from '../engine/engine-options.ts'
import { prepareRules } from '../engine/engine-rules.ts'
import { PartitionsLinked, type ReplayResult } from '../engine/replay.ts'
import { DEFAULT_REPLAY_DEDUPE_IDS, SeenIds } from '../engine/replay-ids.ts'
import { changeLine, notificationLine, type ReplayJob } from '../engine/replay/engine-side.ts'
import { inlineEngine, pairedEngine, threadEngine, type ChunkReader, type EngineLink } from '../engine/replay/engine-link.ts'
import { MAX_FIRST_ERRORS, type InputCounts } from '../engine/replay/input.ts'
import { readChunk, type ChunkRead } from '../engine/replay/read-chunk.ts'
import { ReadPool } from '../engine/replay/read-pool.ts'
import { countLines } from '../ordered-pool.ts'
import { dropRepeats } from '../engine/replay/repeats.ts'
import { parseRulesYaml, RuleError, shareableRules, type RulesDefinition } from '../rules/index.ts'
import { progressBar } from './progress.ts'
import { readLineChunks, type LineSource } from './read-lines.ts'
import { NdjsonOutput } from './replay-output.ts'

export interface ReplayCliResult extends ReplayResult {
  /** Wall-clock time: differs from run to run, so the command prints it on stderr only. */
  seconds: number
  eventsPerSecond: number
  /**
   * How the engine ran, for stderr: `one thread` (with the reader), `engine thread`, `split with
   * an engine thread`, or `split with an engine thread, then engine thread` (an event linked two
   * partitions: read again).
   */
  engines: string
}

export interface ReplayFileOptions {
  asOf?: number
  partitions: number
  engine?: Partial<EngineOptions>
  /** Client event ids remembered for de-duplication (0 = off); default the collector's 2,000,000. */
  dedupeIds?: number
  /** Writes every segment change and notification, in order, as NDJSON to this path; "-" is stdout. */
  changes?: string
  /** The engine in a thread of its own; default: for inputs of 4 MiB or more. */
  thread?: boolean
  /** With a thread: the partitions split between this thread and the engine thread while no event links two (default on). */
  split?: boolean
  /**
   * With the partitions split: the engine thread reads every other chunk from the first, started or
   * not (tests: its share of the reading then does not depend on timing). Default: it reads a chunk
   * whenever it has little else queued, and none while it starts.
   */
  alternateReads?: boolean
}

/** Something the user must fix in the command or the rules (exit code 2); any other failure is 1. */
export class ReplayUsageError extends Error {
  override readonly name = 'ReplayUsageError'
}

export { changeLine, notificationLine }

/** Inputs smaller than this replay in one thread: an engine thread's start would cost more than it saves. */
const THREAD_FROM_BYTES = 4 << 20

/**
 * `tagstream replay`: the engine over an NDJSON file, printing the final members of each segment.
 * The file is read with the collector's byte-level reader (src/engine/replay/reader.ts), for a large
 * file by this thread and a reader thread in turns, and the engine applies each chunk as it comes, in
 * a thread of its own or split over two (docs/replay.md, "How a file is read").
 */
export async function replayFile(input: string, rulesPath: string, opts: ReplayFileOptions): Promise<ReplayCliResult> {
  const options = engineOptions(opts.engine)
  const rules = loadRules(rulesPath, options)
  if (opts.changes !== undefined && opts.changes !== '-') {
    const target = resolve(opts.changes)
    if (target === resolve(input) || target === resolve(rulesPath)) throw new ReplayUsageError(`--changes ${opts.changes} would overwrite an input of the replay`)
  }
  const started = process.hrtime.bigint()
  let source = readLineChunks(input)
  // Opened only once the inputs are known to exist: a failed start leaves an old file alone.
  const out = opts.changes === undefined ? null : openChanges(opts.changes)
  const job: ReplayJob = { rules: shareableRules(rules), options, partitions: opts.partitions, asOf: opts.asOf ?? null, changes: out !== null }
  const onChanges = (text: string) => out?.line(text)
  const threaded = opts.thread ?? source.size >= THREAD_FROM_BYTES
  let r: ReplayResult | null = null
  let engines = ''
  try {
    // Partitions split between this thread and the engine thread while no event links two of them:
    // a file read again from its start (gunzipped again), on one engine, if one does (--changes
    // needs one engine's order).
    if (threaded && out === null && opts.partitions > 1 && opts.split !== false) {
      try {
        engines = 'split with an engine thread'
        const paired = pairedEngine(job, opts.alternateReads === true)
        r = await pass(input, source, paired.engine, opts, paired.reader)
      } catch (err) {
        if (!(err instanceof PartitionsLinked)) throw err
        engines += ', then '
        source = readLineChunks(input)
      }
    }
    if (r === null) engines += threaded ? 'engine thread' : 'one thread'
    r ??= await pass(input, source, threaded ? threadEngine(job, onChanges) : inlineEngine(job, onChanges), opts, threaded ? new ReadPool(READ_THREADS, opts.partitions) : null, out)
    await out?.close()
  } catch (err) {
    out?.abort()
    throw err
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9
  return { ...r, seconds, eventsPerSecond: Math.round(r.events / seconds), engines }
}

/**
 * Reader threads when the engine has threads of its own, besides this thread, which reads every other
 * chunk too (measured: two reader threads and this one idle cost more CPU in all than one and this one).
 */
const READ_THREADS = 1

/** Chunks read and not yet applied before this thread waits for the oldest (which another thread reads). */
const READ_AHEAD = 4

/**
 * One reading of the file through an engine: chunks read (here, and by `reader` when it wants them),
 * then, in file order, their repeated client ids dropped and their entries handed to the engine. The
 * replay's result, with the reading's counts.
 */
async function pass(input: string, source: LineSource, engine: EngineLink, opts: ReplayFileOptions, reader: ChunkReader | null, out: NdjsonOutput | null = null): Promise<ReplayResult> {
  const seen = new SeenIds(opts.dedupeIds ?? DEFAULT_REPLAY_DEDUPE_IDS)
  const counts: InputCounts = { rejected: 0, duplicates: 0, firstErrors: [] }
  const bar = progressBar(source.size, 'bytes', 'replay ', 'events')
  let line = 1
  let sent = 0
  const apply = async (r: ChunkRead, chunk: Buffer) => {
    source.recycle(chunk)
    counts.rejected += r.counts.rejected
    for (const e of r.counts.firstErrors) if (counts.firstErrors.length < MAX_FIRST_ERRORS) counts.firstErrors.push(e)
    const dropped = dropRepeats(Buffer.from(r.buffer, 0, r.length), r.clientIds, seen, counts)
    sent += r.count - dropped
    await engine.send(r.buffer, r.length)
    bar.update(source.bytesRead(), { count: sent })
    await out?.flush()
  }
  // The chunks are applied in file order whoever read them: at once when read here or read already
  // there, else once READ_AHEAD more are read.
  const queue: Array<{ chunk: Buffer; read: ChunkRead | null }> = []
  const next = async () => {
    const { chunk, read } = queue.shift()!
    await apply(read ?? (await reader!.take()), chunk)
  }
  const ready = () => queue.length > 0 && (queue[0]!.read !== null || reader!.hasRead())
  try {
    for await (const chunk of readErrorsNamed(input, source.chunks)) {
      // Into a batch the engine is done with when there is one (./batch.ts in src/engine/replay/).
      const memory = engine.released()
      if (reader === null || !reader.wants()) {
        const r = readChunk(chunk, line, opts.partitions, memory)
        line += r.lines
        queue.push({ chunk, read: r })
      } else {
        reader.send(chunk, line, memory)
        line += countLines(chunk)
        queue.push({ chunk, read: null })
      }
      while (queue.length > READ_AHEAD || ready()) await next()
    }
    while (queue.length > 0) await next()
    bar.update(source.size, { count: sent })
    const result = await engine.finish()
    return { ...result, rejected: counts.rejected, duplicates: counts.duplicates, firstErrors: counts.firstErrors }
  } catch (err) {
    await engine.close()
    throw err
  } finally {
    await reader?.close()
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

/**
 * The rules, parsed, once they are known to prepare (the engine's threads get them parsed). Rules
 * that cannot be read are an I/O failure; rules that do not parse are the user's to fix.
 */
function loadRules(path: string, options: EngineOptions): RulesDefinition {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    throw new Error(`cannot read ${path}: ${(err as Error).message}`, { cause: err })
  }
  try {
    const rules = parseRulesYaml(text, path)
    prepareRules(rules, options)
    return rules
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
async function* readErrorsNamed(path: string, chunks: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  try {
    yield* chunks
  } catch (err) {
    throw new Error(`cannot read ${path}: ${(err as Error).message}`, { cause: err })
  }
}
