import { InvalidArgumentError, Option, type Command } from 'commander'
import { parseEventTime } from '../events/index.ts'
import { MAX_HOURS, SLOTS_DEFAULTS, writeSlotsNdjson, type SlotsOptions, type SlotsOrder } from '../sim/index.ts'

/** Bad input exits with 2, as main.ts does for its own errors: commander copies exitCode from the error. */
function invalid(message: string): InvalidArgumentError {
  const err = new InvalidArgumentError(message)
  err.exitCode = 2
  return err
}

function integer(name: string, min: 0 | 1, max = Number.MAX_SAFE_INTEGER) {
  const what = min === 1 ? 'a positive integer' : 'a non-negative integer'
  return (value: string): number => {
    const n = /^\s*\d+\s*$/.test(value) ? Number(value) : NaN
    if (!Number.isSafeInteger(n) || n < min) throw invalid(`${name} must be ${what}, got "${value}"`)
    if (n > max) throw invalid(`${name} must be at most ${max}, got "${value}"`)
    return n
  }
}

function hours(value: string): number {
  const n = value.trim() === '' ? NaN : Number(value)
  if (!Number.isFinite(n) || n <= 0 || n > MAX_HOURS) throw invalid(`--hours must be a number in (0, ${MAX_HOURS}], got "${value}"`)
  return n
}

/** Epoch ms or ISO-8601, read exactly as event times are, so `--end` means what `ts` means. */
function endTime(value: string): number {
  const t = parseEventTime(/^\d+$/.test(value) ? Number(value) : value)
  if (!t.ok) {
    const why = t.reason.includes(value) ? '' : ` (${t.reason})`
    throw invalid(`--end must be an ISO-8601 date-time or epoch milliseconds, got "${value}"${why}`)
  }
  return t.ms
}

function order(value: string): SlotsOrder {
  if (value !== 'time' && value !== 'random') throw invalid(`--order must be "time" or "random", got "${value}"`)
  return value
}

interface SlotsFlags extends Required<SlotsOptions> {
  out: string
}

/** `tagstream simulate slots`: seed 000's slot-machine workload as NDJSON. */
export function registerSimulate(program: Command): Command {
  const simulate = program.command('simulate').description('generate synthetic workloads as NDJSON')
  simulate
    .command('slots')
    .description('slot-machine spins and in-app purchases, like seed 000 (top 20% spin without limit, top 2% buy without limit)')
    .option('--users <n>', 'users, ids "1".."N"', integer('--users', 1, 2 ** 32 - 1), SLOTS_DEFAULTS.users)
    .option('--spins <n>', 'spin attempts; attempts for capped users are skipped', integer('--spins', 0), SLOTS_DEFAULTS.spins)
    .option('--hours <h>', 'length of the time range ending at --end', hours, SLOTS_DEFAULTS.hours)
    .option('--seed <n>', 'random seed: the same seed writes the same bytes', integer('--seed', 0, 2 ** 32 - 1), SLOTS_DEFAULTS.seed)
    .addOption(
      new Option('--end <time>', 'latest event time, ISO-8601 or epoch ms')
        .argParser(endTime)
        .default(SLOTS_DEFAULTS.end, new Date(SLOTS_DEFAULTS.end).toISOString()),
    )
    .option('--order <order>', 'time (sorted by ts) or random (generation order, as the seed writes)', order, SLOTS_DEFAULTS.order)
    .option('--out <file>', 'output file, gzipped if it ends in .gz; - for stdout', '-')
    .action(async (flags: SlotsFlags) => {
      const { out, ...options } = flags
      const started = performance.now()
      const r = await writeSlotsNdjson(out, options)
      const seconds = (performance.now() - started) / 1000
      const summary = { out, events: r.events, bytes: r.bytes, end: new Date(r.end).toISOString(), seconds: Number(seconds.toFixed(3)), eventsPerSecond: Math.round(r.events / Math.max(seconds, 0.001)) }
      // With the data on stdout, the summary goes to stderr so the stream stays pure NDJSON.
      const write = out === '-' ? process.stderr : process.stdout
      write.write(JSON.stringify(summary) + '\n')
    })
  return simulate
}
