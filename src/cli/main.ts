import { Command } from 'commander'
import { addSetting } from '../config/commander-options.ts'
import { SETTINGS } from '../config/settings.ts'
import { DEFAULT_PARTITIONS, TOPICS } from '../log/event-log.ts'
import { registerDemo } from './demo.ts'
import { registerReplay } from './replay-command.ts'
import { registerPredict } from './predict.ts'
import { registerQuery } from './query.ts'
import { registerServe } from './serve.ts'
import { registerSimulate } from './simulate.ts'
import { registerWarehouse } from './warehouse.ts'
import { registerWorker } from './worker-command.ts'
import type { EventsFormat } from '../events/index.ts'
import { logUrl, type GlobalOptions } from './options.ts'

export function buildProgram(): Command {
  const program = new Command('tagstream').description('Real-time user segmentation and event analytics for games and apps')
  // Flags first, then their TAGSTREAM_* variables, then these defaults (src/config/settings.ts).
  addSetting(program, SETTINGS.data, { default: 'data' })
  addSetting(program, SETTINGS.log)
  addSetting(program, SETTINGS.partitions, { default: DEFAULT_PARTITIONS })
  program.showHelpAfterError()

  registerDemo(program)

  const ingest = program
    .command('ingest')
    .description('validate an NDJSON file (optionally .gz) into the event log; bad lines go to the dead-letter log')
    .argument('<file>', 'events, one JSON object per line')
    .option('--tenant <name>', 'tenant of the events', 'default')
  addSetting(ingest, SETTINGS.eventsFormat)
  ingest.action(async (file: string, cmd: { tenant: string; eventsFormat?: EventsFormat }) => {
    const o = program.opts<GlobalOptions>()
    // The log adapters (LMDB, Kafka) and the reader load when the command runs, not at every start.
    const { openEventLog } = await import('../log/open-log.ts')
    const { ingestFile } = await import('./ingest-file.ts')
    const { defaultEventsFormat } = await import('../log/default-events-format.ts')
    const { log, partitions } = await openEventLog(logUrl(o.data, o.log), { partitions: o.partitions })
    try {
      const url = logUrl(o.data, o.log)
      const r = await ingestFile(log, file, partitions, cmd.tenant, { eventsFormat: cmd.eventsFormat ?? defaultEventsFormat(url) })
      console.log(JSON.stringify({ accepted: r.accepted, rejected: r.rejected, seconds: r.seconds, eventsPerSecond: Math.round(r.accepted / Math.max(r.seconds, 0.001)), firstErrors: r.samples }))
      if (r.rejected > 0) process.exitCode = 3
    } finally {
      await log.close()
    }
  })

  registerReplay(program)

  program
    .command('offsets')
    .description('print the start and end offsets of every topic partition')
    .action(async () => {
      const o = program.opts<GlobalOptions>()
      const { openEventLog } = await import('../log/open-log.ts')
      const { log } = await openEventLog(logUrl(o.data, o.log), { partitions: o.partitions })
      try {
        for (const topic of Object.values(TOPICS)) {
          const n = (await log.partitionCount(topic)) ?? 0
          const parts = []
          for (let p = 0; p < n; p++) parts.push({ partition: p, ...(await log.offsets(topic, p)) })
          console.log(JSON.stringify({ topic, partitions: parts }))
        }
      } finally {
        await log.close()
      }
    })

  registerSimulate(program)
  registerServe(program)
  registerWarehouse(program)
  registerQuery(program)
  registerPredict(program)
  registerWorker(program)
  return program
}

export async function main(argv: string[]): Promise<void> {
  // `tagstream offsets | head` closes the pipe early; that is not an error.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0)
    throw err
  })
  try {
    await buildProgram().parseAsync(argv)
  } catch (err) {
    console.error(`tagstream: ${(err as Error).message}`)
    process.exitCode = 2
  }
}
