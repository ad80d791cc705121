import type { Command, CommanderError } from 'commander'
import { durationMs, integer } from '../config/parsers.ts'
import { flagParser } from '../config/read-setting.ts'
import { eventTimeFlag } from './time-flag.ts'
import { DEFAULT_REPLAY_DEDUPE_IDS } from '../engine/replay-ids.ts'
import { replayFile, ReplayUsageError, type ReplayCliResult } from './replay.ts'

/** Exit codes of `tagstream replay`, as docs/replay.md lists them. */
export const REPLAY_EXIT = { ok: 0, failed: 1, usage: 2, rejected: 3 } as const

interface ReplayFlags {
  input: string
  segments: string
  asOf?: number
  lateness: number
  changes?: string
  dedupeIds: number
  strict?: boolean
}

/**
 * Commander exits with 1 on a bad command line; for replay, 1 means the replay itself failed, so a
 * usage error exits with 2 like an unparseable rules file. (--help still exits with 0.)
 */
function usageExit(err: CommanderError): never {
  process.exit(err.exitCode === 0 ? REPLAY_EXIT.ok : REPLAY_EXIT.usage)
}

export function registerReplay(program: Command): Command {
  return program
    .command('replay')
    .description('run the segmentation engine over an NDJSON file and print the final members of each segment')
    .requiredOption('--input <file>', 'events, one JSON object per line (.gz accepted)')
    .requiredOption('--segments <file>', 'segments and triggers (YAML)')
    .option('--as-of <time>', 'evaluate at this event time (ISO-8601 or epoch ms); later events are skipped', flagParser('--as-of', eventTimeFlag))
    .option('--lateness <ms>', 'allowed lateness in ms', flagParser('--lateness', durationMs(0)), 0)
    .option('--changes <file>', 'write the segment changes and notifications, in order, as NDJSON to this file; - for stdout (the summary then goes to stderr)')
    .option('--dedupe-ids <n>', 'client event ids remembered to skip repeated ones; 0 = no de-duplication', flagParser('--dedupe-ids', integer(0)), DEFAULT_REPLAY_DEDUPE_IDS)
    .option('--strict', 'exit with 3 if a line was rejected (without it, rejected lines are reported and the exit code is 0)')
    .exitOverride(usageExit)
    .action(async (flags: ReplayFlags) => {
      const { partitions } = program.opts<{ partitions: number }>()
      let r: ReplayCliResult
      try {
        r = await replayFile(flags.input, flags.segments, {
          partitions,
          engine: { allowedLatenessMs: flags.lateness },
          dedupeIds: flags.dedupeIds,
          ...(flags.asOf === undefined ? {} : { asOf: flags.asOf }),
          ...(flags.changes === undefined ? {} : { changes: flags.changes }),
        })
      } catch (err) {
        process.stderr.write(`tagstream replay: ${(err as Error).message}\n`)
        process.exitCode = err instanceof ReplayUsageError ? REPLAY_EXIT.usage : REPLAY_EXIT.failed
        return
      }
      const { members, seconds, eventsPerSecond, engines, ...summary } = r
      // Timings differ from run to run: stderr only, so stdout is the same bytes for the same input.
      process.stderr.write(`replay: ${r.events} events in ${seconds.toFixed(2)} s (${eventsPerSecond} events/s), ${r.rejected} rejected, ${r.duplicates} duplicates (${engines})\n`)
      const report = JSON.stringify({ ...summary, asOf: r.asOf === null ? null : new Date(r.asOf).toISOString(), segments: members }, null, 2)
      // With the changes on stdout, the summary goes to stderr so that stdout stays pure NDJSON.
      ;(flags.changes === '-' ? process.stderr : process.stdout).write(report + '\n')
      if (flags.strict && r.rejected > 0) process.exitCode = REPLAY_EXIT.rejected
    })
}
