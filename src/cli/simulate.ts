import { InvalidArgumentError, Option, type Command } from 'commander'
import { addSetting } from '../config/commander-options.ts'
import { integer as integerParser, oneOf, positiveNumber } from '../config/parsers.ts'
import { flagParser } from '../config/read-setting.ts'
import { SETTINGS } from '../config/settings.ts'
import {
  CLICKSTREAM_DEFAULTS,
  GAME_DEFAULTS,
  HttpTarget,
  LIFECYCLE_DEFAULTS,
  MAX_LIFECYCLE_DAYS,
  MAX_LIFECYCLE_USERS,
  MAX_HOURS,
  SLOTS_DEFAULTS,
  clickstreamEvents,
  gameRequests,
  lifecycleEvents,
  partnerKeys,
  planSlots,
  runSender,
  sendEvents,
  sendGame,
  slotsStream,
  spreadClock,
  wallClock,
  writeLifecycleNdjson,
  writeNdjson,
  writeSlotsNdjson,
  type RawEvent,
  type SenderRun,
  type SlotsOptions,
  type SlotsOrder,
} from '../sim/index.ts'
import { eventTimeFlag } from './time-flag.ts'

/** Bad input exits with 2, as main.ts does for its own errors: commander copies exitCode from the error. */
function invalid(message: string): InvalidArgumentError {
  const err = new InvalidArgumentError(message)
  err.exitCode = 2
  return err
}

/** A whole-number flag, parsed by src/config (errors name the flag and the allowed range). */
function integer(name: string, min: number, max?: number): (raw: string) => number {
  return flagParser(name, integerParser(min, max))
}

/** Flags shared by every generator that can send over HTTP. */
interface SendFlags {
  out?: string
  url?: string
  key?: string[]
  rate: number
  concurrency: number
  batch: number
  live: boolean
}

function withSendFlags(cmd: Command, o: { batch: boolean; live: boolean; concurrency: number }): Command {
  cmd
    .option('--out <file>', 'output file, gzipped if it ends in .gz; - for stdout (the default when --url is not given)')
    .option('--url <url>', 'send to this tagstream server instead of writing a file, e.g. http://127.0.0.1:8080')
  addSetting(cmd, SETTINGS.key)
  cmd
    .option('--rate <n>', 'events per second when sending; 0 = flat out', integer('--rate', 0), 0)
    .option('--concurrency <n>', 'requests in flight when sending', integer('--concurrency', 1, 1024), o.concurrency)
  if (o.batch) cmd.option('--batch <n>', 'events per request when sending', integer('--batch', 1, 10_000), 500)
  if (o.live) cmd.option('--live', 'stamp each event with the time it is generated (windows slide in real time) instead of spreading times over --hours before --end', false)
  return cmd
}

/** The destination: a file (default stdout), or a server with a key. */
function destination(flags: SendFlags): { kind: 'file'; out: string } | { kind: 'http'; url: string; key: string[] } {
  if (flags.url === undefined) return { kind: 'file', out: flags.out ?? '-' }
  if (flags.out !== undefined) throw invalid('--out and --url cannot be used together: write a file or send to a server')
  // --key, or TAGSTREAM_KEY (applied by commander's preAction hook, src/config/commander-options.ts).
  const key = flags.key
  if (!key?.length) throw invalid('--url needs --key: an API key with the write scope (tagstream serve prints a dev key)')
  return { kind: 'http', url: flags.url, key }
}

function printSummary(out: string | undefined, summary: Record<string, unknown>): void {
  // With the data on stdout, the summary goes to stderr so the stream stays pure NDJSON.
  const write = out === '-' ? process.stderr : process.stdout
  write.write(JSON.stringify(summary) + '\n')
}

/** A written file's summary: its events and bytes, the given times (ISO-8601), and how fast it was written. */
function printFileSummary(out: string, started: number, r: { events: number; bytes: number }, times: Record<string, number>): void {
  const seconds = (performance.now() - started) / 1000
  printSummary(out, {
    out,
    events: r.events,
    bytes: r.bytes,
    ...Object.fromEntries(Object.entries(times).map(([k, t]) => [k, new Date(t).toISOString()])),
    seconds: Number(seconds.toFixed(3)),
    eventsPerSecond: Math.round(r.events / Math.max(seconds, 0.001)),
  })
}

function sentSummary(url: string, run: SenderRun): Record<string, unknown> {
  const { samples, ...counts } = run.stats
  return {
    url,
    ...counts,
    seconds: Number(run.seconds.toFixed(3)),
    eventsPerSecond: Math.round(run.stats.sent / Math.max(run.seconds, 0.001)),
    interrupted: run.interrupted,
    ...(samples.length ? { firstProblems: samples } : {}),
  }
}

async function sendRawEvents(label: string, url: string, total: number | null, source: Iterator<RawEvent>, flags: SendFlags, keyFor: (e: RawEvent) => string): Promise<void> {
  const target = new HttpTarget(url, flags.concurrency)
  try {
    const run = await runSender(label, total, (signal, onProgress) =>
      sendEvents(source, { target, keyFor, batch: flags.batch, concurrency: flags.concurrency, rate: flags.rate, signal, onProgress, ...(total === null ? {} : { limit: total }) }),
    )
    printSummary(undefined, sentSummary(url, run))
  } finally {
    target.close()
  }
}

interface SlotsFlags extends Required<Omit<SlotsOptions, 'end'>>, SendFlags {
  end: number
}

interface GameFlags extends SendFlags {
  players: number
  sessions: number
  requests: number
  seed: number
}

interface ClickstreamFlags extends SendFlags {
  partners: number
  users: number
  sessions: number
  events: number
  hours: number
  end: number
  seed: number
}

interface LifecycleFlags extends SendFlags {
  users: number
  days: number
  end: number
  seed: number
}

const seedOption = (fallback: number) => new Option('--seed <n>', 'random seed: the same seed generates the same events').argParser(integer('--seed', 0, 2 ** 32 - 1)).default(fallback)
const endOption = () =>
  new Option('--end <time>', 'latest event time, ISO-8601 or epoch ms').argParser(flagParser('--end', eventTimeFlag)).default(SLOTS_DEFAULTS.end, new Date(SLOTS_DEFAULTS.end).toISOString())

/** `tagstream simulate slots|game|clickstream|lifecycle`: the seeds' workloads as NDJSON or sent over HTTP. */
export function registerSimulate(program: Command): Command {
  const simulate = program.command('simulate').description("generate the seeds' workloads as NDJSON, or send them to a server")

  const slots = simulate
    .command('slots')
    .description('slot-machine spins and in-app purchases, like seed 000 (top 20% spin without limit, top 2% buy without limit)')
    .option('--users <n>', 'users, ids "1".."N"', integer('--users', 1, 2 ** 32 - 1), SLOTS_DEFAULTS.users)
    .option('--spins <n>', 'spin attempts; attempts for capped users are skipped', integer('--spins', 0), SLOTS_DEFAULTS.spins)
    .option('--hours <h>', 'length of the time range ending at --end', flagParser('--hours', positiveNumber(MAX_HOURS)), SLOTS_DEFAULTS.hours)
    .addOption(seedOption(SLOTS_DEFAULTS.seed))
    .addOption(endOption())
    .option('--order <order>', 'time (sorted by ts) or random (generation order, as the seed writes)', flagParser('--order', oneOf<SlotsOrder>(['time', 'random'])), SLOTS_DEFAULTS.order)
  withSendFlags(slots, { batch: true, live: true, concurrency: 4 }).action(async (flags: SlotsFlags) => {
    const { out, url, key, rate, concurrency, batch, live, ...options } = flags
    const dest = destination({ out, url, key, rate, concurrency, batch, live })
    if (dest.kind === 'http') {
      // Live runs repeat the plan with the next seed, so they go on until Ctrl-C.
      const total = live ? null : planSlots(options).count
      return sendRawEvents('simulate slots', dest.url, total, slotsStream(options, live ? wallClock : undefined), flags, () => dest.key[0]!)
    }
    if (live) throw invalid('--live applies when sending (--url); a file gets the times spread over --hours before --end')
    const started = performance.now()
    const r = await writeSlotsNdjson(dest.out, options)
    printFileSummary(dest.out, started, r, { end: r.end })
  })

  const game = simulate
    .command('game')
    .description('players registering, logging in, buying items and joining guilds and teams through the Game API, like seeds 002/003')
    .option('--players <n>', 'players playing at once (a player out of money is replaced by a new one)', integer('--players', 1, 10_000_000), GAME_DEFAULTS.players)
    .option('--sessions <n>', 'players in a session at once', integer('--sessions', 1, 100_000), GAME_DEFAULTS.sessions)
    .option('--requests <n>', 'Game API calls, one event each; 0 = until Ctrl-C (with --url)', integer('--requests', 0), 10_000)
    .addOption(seedOption(GAME_DEFAULTS.seed))
  withSendFlags(game, { batch: false, live: false, concurrency: 8 }).action(async (flags: GameFlags) => {
    const dest = destination({ ...flags, batch: 1, live: false })
    const source = gameRequests({ players: flags.players, sessions: flags.sessions, seed: flags.seed })
    if (dest.kind === 'file') {
      if (flags.requests === 0) throw invalid('--requests 0 (until Ctrl-C) needs --url; a file needs a number of requests')
      const started = performance.now()
      const r = await writeNdjson(dest.out, source, flags.requests, 'simulate game')
      printSummary(dest.out, { out: dest.out, requests: r.lines, bytes: r.bytes, seconds: Number(((performance.now() - started) / 1000).toFixed(3)) })
      return
    }
    if (dest.key.length > 1) throw invalid("--key takes one key for the game: every player lives in that key's tenant")
    const target = new HttpTarget(dest.url, flags.concurrency)
    try {
      const total = flags.requests === 0 ? null : flags.requests
      const run = await runSender('simulate game', total, (signal, onProgress) =>
        sendGame(source, { target, key: dest.key[0]!, concurrency: flags.concurrency, rate: flags.rate, signal, onProgress, ...(total === null ? {} : { limit: total }) }),
      )
      printSummary(undefined, sentSummary(dest.url, run))
    } finally {
      target.close()
    }
  })

  const clicks = simulate
    .command('clickstream')
    .description("partners' shoppers: sessions of page views, searches, add_to_cart and purchases on several devices, like seed 004")
    .option('--partners <n>', 'partners (shops); with several --key values, partner i sends with key i mod keys', integer('--partners', 1, 1000), CLICKSTREAM_DEFAULTS.partners)
    .option('--users <n>', 'visitors per partner', integer('--users', 1, 2 ** 32 - 1), CLICKSTREAM_DEFAULTS.users)
    .option('--sessions <n>', 'sessions open at once', integer('--sessions', 1, 100_000), CLICKSTREAM_DEFAULTS.sessions)
    .option('--events <n>', 'events; 0 = until Ctrl-C (with --url --live)', integer('--events', 0), 100_000)
    .option('--hours <h>', 'length of the time range ending at --end', flagParser('--hours', positiveNumber(MAX_HOURS)), SLOTS_DEFAULTS.hours)
    .addOption(endOption())
    .addOption(seedOption(CLICKSTREAM_DEFAULTS.seed))
  withSendFlags(clicks, { batch: true, live: true, concurrency: 4 }).action(async (flags: ClickstreamFlags) => {
    const dest = destination(flags)
    if (flags.events === 0 && !(dest.kind === 'http' && flags.live)) throw invalid('--events 0 (until Ctrl-C) needs --url and --live; otherwise give a number of events')
    const clock = flags.live ? wallClock : spreadClock(flags.end, Math.round(flags.hours * 3_600_000), flags.events)
    const source = clickstreamEvents({ partners: flags.partners, users: flags.users, sessions: flags.sessions, seed: flags.seed }, clock)
    if (dest.kind === 'file') {
      if (flags.live) throw invalid('--live applies when sending (--url); a file gets the times spread over --hours before --end')
      const started = performance.now()
      const r = await writeNdjson(dest.out, source, flags.events, 'simulate clickstream')
      printSummary(dest.out, { out: dest.out, events: r.lines, bytes: r.bytes, end: new Date(flags.end).toISOString(), seconds: Number(((performance.now() - started) / 1000).toFixed(3)) })
      return
    }
    const keyOf = partnerKeys(flags.partners, dest.key)
    return sendRawEvents('simulate clickstream', dest.url, flags.events === 0 ? null : flags.events, source, flags, keyOf)
  })

  const lifecycle = simulate
    .command('lifecycle')
    .description('players over weeks with planted signal for daily predictions: fading engagement (churn), purchase habits, wealth with a per-player drift')
    .option('--users <n>', 'players, ids "u1".."uN"', integer('--users', 1, MAX_LIFECYCLE_USERS), LIFECYCLE_DEFAULTS.users)
    .option('--days <n>', 'simulated days, the last ending at --end', integer('--days', 1, MAX_LIFECYCLE_DAYS), LIFECYCLE_DEFAULTS.days)
    // Unlike the other generators the default is now: the run is history leading up to today.
    .addOption(new Option('--end <time>', 'the last simulated instant, ISO-8601 or epoch ms').argParser(flagParser('--end', eventTimeFlag)).default(Date.now(), 'now'))
    .addOption(seedOption(LIFECYCLE_DEFAULTS.seed))
  withSendFlags(lifecycle, { batch: true, live: false, concurrency: 4 }).action(async (flags: LifecycleFlags) => {
    const dest = destination({ ...flags, live: false })
    const options = { users: flags.users, days: flags.days, end: flags.end, seed: flags.seed }
    if (dest.kind === 'http') return sendRawEvents('simulate lifecycle', dest.url, null, lifecycleEvents(options), flags, () => dest.key[0]!)
    const started = performance.now()
    const r = await writeLifecycleNdjson(dest.out, options)
    printFileSummary(dest.out, started, r, { start: r.start, end: r.end })
  })
  return simulate
}
