import type { Command } from 'commander'
import { integer } from '../config/parsers.ts'
import { flagParser } from '../config/read-setting.ts'
import { PREDICT_DEFAULTS } from '../predict/predict-options.ts'
import type { PredictOptions, RunKind, RunRecord } from '../predict/index.ts'
import { logUrl, type GlobalOptions } from './options.ts'
import { progressBar, type Progress } from './progress.ts'
import { eventTimeFlag } from './time-flag.ts'
import { formatRun } from './predict-output.ts'
import { defaultEventsFormat } from '../log/default-events-format.ts'

interface RunFlags {
  asOf?: number
  warehouse?: string
  seed?: number
  maxTrainRows?: number
  json: boolean
}

/** A bar per stage on stderr (silent when stderr is not a terminal). */
function stageBars(): { onProgress: (stage: string, done: number, total: number) => void; stop: () => void } {
  let current: { stage: string; bar: Progress } | null = null
  return {
    onProgress(stage, done, total) {
      if (current?.stage !== stage) {
        current?.bar.stop()
        current = { stage, bar: progressBar(Math.max(total, 1), stage === 'features' ? 'steps' : 'tenants', `predict ${stage} `) }
      }
      current.bar.update(done)
    },
    stop: () => current?.bar.stop(),
  }
}

/** `tagstream predict run|train|score|status` (docs/predictions.md). */
export function registerPredict(program: Command): void {
  const predict = program.command('predict').description('daily models per tenant from the warehouse: purchase in 7 days, churn in 7 days, wealth in 30 days')

  const action = (kind: RunKind) => async (flags: RunFlags) => {
    const o = program.opts<GlobalOptions>()
    // DuckDB is loaded when a command needs it (`tagstream --help` stays fast).
    const { predictRun, RunBusyError } = await import('../predict/index.ts')
    // The log adapters load when a run needs the log, not at every start of the CLI.
    const opened = kind === 'train' ? null : await (await import('../log/open-log.ts')).openEventLog(logUrl(o.data, o.log), { partitions: o.partitions })
    const bars = stageBars()
    const options: Partial<PredictOptions> = {
      ...(flags.seed === undefined ? {} : { seed: flags.seed }),
      ...(flags.maxTrainRows === undefined ? {} : { maxTrainRows: flags.maxTrainRows }),
    }
    let record: RunRecord
    try {
      record = await predictRun({
        dataDir: o.data,
        ...(flags.warehouse === undefined ? {} : { warehouseRoot: flags.warehouse }),
        kind,
        ...(flags.asOf === undefined ? {} : { asOfMs: flags.asOf }),
        options,
        ...(opened === null ? {} : { log: { log: opened.log, partitions: opened.partitions, format: defaultEventsFormat(logUrl(o.data, o.log)) } }),
        onProgress: bars.onProgress,
      })
    } catch (err) {
      if (!(err instanceof RunBusyError)) throw err
      process.stderr.write(`tagstream: ${err.message}\n`)
      process.exitCode = 3
      return
    } finally {
      bars.stop()
      await opened?.log.close()
    }
    process.stdout.write(flags.json ? `${JSON.stringify(record, null, 1)}\n` : formatRun(record))
    if (record.status !== 'succeeded') process.exitCode = 1
  }

  const runFlags = (cmd: Command, training: boolean) => {
    cmd
      .option('--as-of <time>', 'features read the days before this instant (UTC day; ISO-8601 or epoch ms); default now', flagParser('--as-of', eventTimeFlag))
      .option('--warehouse <dir>', 'warehouse directory (default <data>/warehouse)')
    // Scoring reads features as its models were trained: the training run's seed and sizes.
    if (training) {
      cmd
        .option('--seed <n>', 'seeds the row samples', flagParser('--seed', integer(0, 2 ** 31 - 1)), PREDICT_DEFAULTS.seed)
        .option('--max-train-rows <n>', 'training rows sampled per tenant and horizon', flagParser('--max-train-rows', integer(100, 10_000_000)), PREDICT_DEFAULTS.maxTrainRows)
    }
    return cmd.option('--json', 'print the run record as JSON', false)
  }

  runFlags(predict.command('run').description("train every tenant's models, then score its users (the daily job)"), true).action(action('run'))
  runFlags(predict.command('train').description("train and evaluate every tenant's models on held-out days; scores nothing"), true).action(action('train'))
  runFlags(predict.command('score').description("score users with the newest succeeded training run's published models"), false).action(action('score'))

  predict
    .command('status')
    .description("the newest prediction runs and their models' quality")
    .option('--limit <n>', 'runs shown', flagParser('--limit', integer(1, 1000)), 5)
    .option('--json', 'print the run records as JSON', false)
    .action(async (flags: { limit: number; json: boolean }) => {
      const { RunStore } = await import('../predict/run-store.ts')
      const runs = new RunStore(program.opts<GlobalOptions>().data).list(flags.limit)
      if (flags.json) process.stdout.write(`${JSON.stringify(runs, null, 1)}\n`)
      else if (runs.length === 0) process.stdout.write('no prediction runs yet: `tagstream predict run` starts one\n')
      else process.stdout.write(runs.map(formatRun).join('\n'))
    })
}
