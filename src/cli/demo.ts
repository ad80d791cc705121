import { randomBytes } from 'node:crypto'
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Command } from 'commander'
import { SCOPES, type ApiKey } from '../api/auth.ts'
import { defaultConfig } from '../api/config.ts'
import { addSetting } from '../config/commander-options.ts'
import type { EventsFormat } from '../events/index.ts'
import type { RunningServer } from '../api/server.ts'
import { createLogger, type Logger } from '../logger.ts'
import { PARTNERS, DEMO_WORKLOADS, startDemoTraffic, type SimulatorName } from '../sim/index.ts'
import { seedPredictionHistory } from './demo-history.ts'
import { ChangeTally, summaryLine } from './demo-summary.ts'
import { integer, port } from '../config/parsers.ts'
import { flagParser, processEnv, readEnv } from '../config/read-setting.ts'
import { SETTINGS, type LogLevel } from '../config/settings.ts'
import { logUrl, type GlobalOptions } from './options.ts'

/** Every default of `tagstream demo`, named in docs/simulators.md. */
export const DEMO_DEFAULTS = {
  dataDir: '.tagstream-demo',
  host: '127.0.0.1',
  port: 8080,
  /** Events per second across the three simulators: enough to watch segments move, little enough for a laptop. */
  rate: 300,
  summaryEverySeconds: 5,
  /** Days the log and the warehouse keep: the 30-day wealth model needs 45 of history. */
  retentionDays: 60,
}

/** The demo's own file in its data directory: the keys (so a dashboard link survives a restart) and the mark that --fresh may wipe it. */
const STATE_FILE = 'demo.json'
const EXAMPLE_RULES = fileURLToPath(new URL('../../examples/demo-segments.yaml', import.meta.url))

interface DemoKeys {
  dev: string
  /** Tenant (partner name) → key, for the clickstream partners after the first. */
  partners: Record<string, string>
}

export interface DemoOptions {
  dataDir: string
  logUrl: string
  partitions: number
  host: string
  port: number
  /** The port was chosen by the user: a busy port is an error rather than a reason to pick another. */
  portExplicit: boolean
  rate: number
  fresh: boolean
  warehouse: boolean
  summaryEverySeconds: number
  /** TAGSTREAM_LOG_LEVEL; the demo's default is warn, its own lines being the interface. */
  logLevel: LogLevel
  /** TAGSTREAM_WEB_DIR, resolved; null = web/dist of the package. */
  webDir: string | null
  /** --events-format / TAGSTREAM_EVENTS_FORMAT; default json (config.ts). */
  eventsFormat?: EventsFormat
}

/** The tenants of the clickstream partners after the first (who shares the default tenant with the slots and the game). */
const partnerTenants = (): string[] => PARTNERS.slice(1, DEMO_WORKLOADS.clickstream.partners).map((p) => p.name)

/** Wipes (with --fresh) and prepares the data directory; refuses to wipe one the demo did not create. */
function prepareDataDir(dir: string, fresh: boolean): DemoKeys {
  const state = join(dir, STATE_FILE)
  if (fresh && existsSync(dir)) {
    if (!existsSync(state) && readdirSync(dir).length > 0) throw new Error(`--fresh wipes only a directory the demo created (it holds ${STATE_FILE}); ${dir} does not, so it is left alone`)
    rmSync(dir, { recursive: true, force: true })
  }
  mkdirSync(dir, { recursive: true })
  if (!existsSync(join(dir, 'segments.yaml'))) copyFileSync(EXAMPLE_RULES, join(dir, 'segments.yaml'))
  if (existsSync(state)) return JSON.parse(readFileSync(state, 'utf8')) as DemoKeys
  const key = (prefix: string) => `${prefix}_${randomBytes(12).toString('hex')}`
  const keys: DemoKeys = { dev: key('dev'), partners: Object.fromEntries(partnerTenants().map((t) => [t, key(t)])) }
  writeFileSync(state, JSON.stringify(keys, null, 2) + '\n')
  return keys
}

async function listen(o: DemoOptions, keys: ApiKey[], logger: Logger): Promise<RunningServer> {
  const config = (port: number) =>
    defaultConfig({
      host: o.host,
      port,
      dataDir: o.dataDir,
      logUrl: o.logUrl,
      partitions: o.partitions,
      segmentsPath: join(o.dataDir, 'segments.yaml'),
      keys,
      warehouse: o.warehouse,
      webDir: o.webDir,
      ...(o.eventsFormat === undefined ? {} : { eventsFormat: o.eventsFormat }),
      // The prediction models need 45 days of history (docs/predictions.md): the demo keeps 60.
      retentionDays: DEMO_DEFAULTS.retentionDays,
    })
  // Loaded when the demo starts, not when the CLI does (`tagstream --help` stays fast).
  const { startServer } = await import('../api/server.ts')
  try {
    return await startServer(config(o.port), logger)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err
    if (o.portExplicit) throw new Error(`port ${o.port} on ${o.host} is in use: pass another --port, or --port 0 for a free one`, { cause: err })
    process.stdout.write(`port ${o.port} is in use; using a free port instead\n`)
    return startServer(config(0), logger)
  }
}

/** Resolves on the first SIGINT or SIGTERM; a second one while stopping exits at once. */
function untilSignal(): Promise<string> {
  return new Promise((done) => {
    const first = (signal: string) => {
      process.off('SIGINT', first)
      process.off('SIGTERM', first)
      const again = () => process.exit(130)
      process.once('SIGINT', again)
      process.once('SIGTERM', again)
      done(signal)
    }
    process.on('SIGINT', first)
    process.on('SIGTERM', first)
  })
}

/**
 * `npm start`: the server on embedded storage with the demo's segments and triggers, the three
 * simulators sending live traffic over HTTP through the collector and the Game API, and a line
 * every few seconds saying what the engine did. Ctrl-C stops the simulators, then the server.
 */
export async function runDemo(o: DemoOptions): Promise<void> {
  const dataDir = resolve(o.dataDir)
  const keys = prepareDataDir(dataDir, o.fresh)
  const apiKeys: ApiKey[] = [{ key: keys.dev, tenant: 'default', scopes: [...SCOPES] }, ...Object.entries(keys.partners).map(([tenant, key]): ApiKey => ({ key, tenant, scopes: ['write', 'read'] }))]
  // The demo's own lines are the interface; the server's logs stay quiet unless asked for.
  const logger = createLogger('tagstream', o.logLevel)
  const server = await listen({ ...o, dataDir }, apiKeys, logger)
  const signal = untilSignal()
  const abort = new AbortController()
  const traffic = startDemoTraffic({
    url: server.url,
    key: keys.dev,
    partnerKeys: partnerTenants().map((t) => keys.partners[t]!),
    rate: o.rate,
    signal: abort.signal,
    onError: (name: SimulatorName, err: Error) => process.stdout.write(`simulator ${name} stopped: ${err.message}\n`),
  })
  const out = (line = ''): void => void process.stdout.write(line + '\n')
  out(`tagstream demo: live traffic on embedded storage in ${dataDir}`)
  out(`  API:        ${server.url}`)
  out(`  API docs:   ${server.url}/docs`)
  out(`  dashboard:  ${server.url}/#key=${keys.dev}`)
  out(`  dev API key (tenant "default", all scopes): ${keys.dev}`)
  out(
    `  partner tenants (clickstream, write+read): ${Object.entries(keys.partners)
      .map(([t, k]) => `${t} ${k}`)
      .join(', ')}`,
  )
  out(`  simulators: slots ${traffic.rates.slots}/s, clickstream ${traffic.rates.clickstream}/s, game ${traffic.rates.game}/s (--rate ${o.rate})`)
  out(`  segments and triggers: ${join(dataDir, 'segments.yaml')}`)
  out('Ctrl-C stops.')
  // Prediction history and a first run, in the background (the warehouse is needed for it).
  const history = o.warehouse ? seedPredictionHistory(server, dataDir, out, abort.signal).catch((err: unknown) => out(`predictions: ${(err as Error).message}`)) : Promise.resolve()

  const tally = await ChangeTally.start(server.ctx.log, server.ctx.partitions)
  let last = { at: performance.now(), events: 0 }
  const stored = () => traffic.stats.slots.accepted + traffic.stats.clickstream.accepted + traffic.stats.game.accepted
  let ticking = Promise.resolve()
  const timer = setInterval(() => {
    ticking = ticking
      .then(async () => {
        await tally.poll()
        const now = performance.now()
        const events = stored()
        out(summaryLine({ at: new Date(), events, perSecond: ((events - last.events) * 1000) / (now - last.at), tally, sizes: server.ctx.engine.snapshot().segmentSizes }))
        last = { at: now, events }
      })
      .catch((err: unknown) => void out(`summary: ${(err as Error).message}`))
  }, o.summaryEverySeconds * 1000)

  const why = await signal
  out(`${why}: stopping the simulators, then the server…`)
  clearInterval(timer)
  abort.abort()
  await traffic.done
  await history
  await ticking
  await server.close()
  out(`stopped. ${stored().toLocaleString('en-US')} events stored; data kept in ${dataDir} (--fresh starts over)`)
}

export function registerDemo(program: Command): void {
  const demo = program
    .command('demo')
    .description(`the server on embedded storage with demo segments, and live slots, game and clickstream traffic (data in ${DEMO_DEFAULTS.dataDir} unless --data)`)
    .option('--host <host>', 'address to listen on', DEMO_DEFAULTS.host)
    .option('--port <port>', `port to listen on (default ${DEMO_DEFAULTS.port}, or a free one when that is taken)`, flagParser('--port', port))
    .option('--rate <n>', 'events per second across the three simulators', flagParser('--rate', integer(1, 1_000_000)), DEMO_DEFAULTS.rate)
    .option('--fresh', "wipe the demo's data directory first", false)
    .option('--no-warehouse', 'do not write events to the Parquet warehouse')
  addSetting(demo, SETTINGS.eventsFormat)
  demo.action(async (o: { host: string; port?: number; rate: number; fresh: boolean; warehouse: boolean; eventsFormat?: EventsFormat }) => {
    const g = program.opts<GlobalOptions>()
    // --data or TAGSTREAM_DATA (source 'cli' or 'env'); otherwise the demo keeps to its own directory.
    const dataGiven = program.getOptionValueSource('data') !== 'default'
    const env = processEnv()
    const webDir = readEnv(SETTINGS.webDir, env)
    const dataDir = dataGiven ? g.data : DEMO_DEFAULTS.dataDir
    await runDemo({
      dataDir,
      logUrl: logUrl(dataDir, g.log),
      partitions: g.partitions,
      host: o.host,
      port: o.port ?? DEMO_DEFAULTS.port,
      portExplicit: o.port !== undefined,
      rate: o.rate,
      fresh: o.fresh,
      warehouse: o.warehouse,
      summaryEverySeconds: DEMO_DEFAULTS.summaryEverySeconds,
      logLevel: readEnv(SETTINGS.logLevel, env) ?? 'warn',
      webDir: webDir === undefined ? null : resolve(webDir),
      eventsFormat: o.eventsFormat,
    })
    // Everything is closed; a handle some library keeps must not hold the terminal.
    setTimeout(() => process.exit(0), 2_000).unref()
  })
}
