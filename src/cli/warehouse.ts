import { join } from 'node:path'
import { InvalidArgumentError, type Command } from 'commander'
import { readFileSync } from 'node:fs'
import { engineOptions } from '../engine/engine-options.ts'
import { parseRulesYaml } from '../rules/index.ts'
import { ruleToSql } from '../warehouse/backfill/rule-sql.ts'
import { DEFAULT_RETENTION_DAYS, firstKeptDay } from '../warehouse/retention.ts'
import { eventTimeFlag } from './time-flag.ts'
import { ValueProblem } from '../config/config-error.ts'
import { integer, type Parser } from '../config/parsers.ts'
import { flagParser } from '../config/read-setting.ts'
import { logUrl, type GlobalOptions } from './options.ts'

/** A warehouse day partition's name (dt=YYYY-MM-DD). */
const day: Parser<string> = (raw) => {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(raw)) throw new ValueProblem('must be a day like 2026-11-01 (YYYY-MM-DD)')
  return raw
}

/** `tagstream warehouse sync|compact|retention`: the Parquet warehouse from the command line. */
export function registerWarehouse(program: Command): void {
  const wh = program.command('warehouse').description('the date-partitioned Parquet warehouse under <data>/warehouse')
  const root = () => join(program.opts<{ data: string }>().data, 'warehouse')
  // DuckDB, the sink and the log are loaded when a command runs, not when the CLI starts (`tagstream --help` stays fast).
  const sink = () => import('../warehouse/sink/index.ts')

  wh.command('sync')
    .description('write every event in the log not yet in the warehouse to Parquet, then exit')
    .action(async () => {
      const o = program.opts<GlobalOptions>()
      const { runSinkOnce } = await sink()
      const { openEventLog } = await import('../log/open-log.ts')
      const { log } = await openEventLog(logUrl(o.data, o.log), { partitions: o.partitions })
      try {
        const r = await runSinkOnce(log, root())
        console.log(
          JSON.stringify({
            rows: r.rowsWritten,
            files: r.filesWritten,
            ms: Math.round(r.ms),
            rowsPerSecond: Math.round(r.rowsWritten / Math.max(r.ms / 1000, 0.001)),
            typeConflicts: r.typeConflicts,
            poisonRecords: r.poisonRecords,
          }),
        )
      } finally {
        await log.close()
      }
    })

  wh.command('backfill')
    .description('the members of a segment at a time, computed in SQL over the warehouse (same semantics as the engine, without keep)')
    .requiredOption('--segments <file>', 'segments file (YAML)')
    .requiredOption('--segment <name>', 'the segment to compute')
    .option('--as-of <time>', 'event time to evaluate at (ISO-8601 or epoch ms; default now)', flagParser('--as-of', eventTimeFlag))
    .option('--sql', 'print the SQL instead of running it')
    .action(async (cmd: { segments: string; segment: string; asOf?: number; sql?: boolean }) => {
      const def = parseRulesYaml(readFileSync(cmd.segments, 'utf8'), cmd.segments)
      const seg = def.segments.find((s) => s.name === cmd.segment)
      if (!seg) throw new InvalidArgumentError(`no segment "${cmd.segment}" in ${cmd.segments} (it has: ${def.segments.map((s) => s.name).join(', ') || 'none'})`)
      const asOf = cmd.asOf ?? Date.now()
      const sql = ruleToSql(seg.when, asOf, engineOptions(), def.traits)
      if (cmd.sql) return console.log(sql)
      const { openWarehouse } = await import('../warehouse/query/warehouse.ts')
      const wh = await openWarehouse(root())
      try {
        const r = await wh.query(sql, { maxRows: 10_000_000, timeoutMs: 600_000 })
        console.log(
          JSON.stringify({
            segment: seg.name,
            asOf: new Date(asOf).toISOString(),
            size: r.rows.length,
            ms: Math.round(r.ms),
            members: r.rows.map((row) => (row[0] === 'default' ? row[1] : `${String(row[0])}:${String(row[1])}`)),
          }),
        )
      } finally {
        wh.close()
      }
    })

  wh.command('compact')
    .description("merge a day's small Parquet files into one per event and partition range")
    .requiredOption('--day <YYYY-MM-DD>', 'the day (dt) to compact', flagParser('--day', day))
    .action(async (cmd: { day: string }) => {
      const { compactDay } = await sink()
      console.log(JSON.stringify(await compactDay(root(), cmd.day)))
    })

  wh.command('retention')
    .description(`drop expired days, as BigQuery's partition_expiration_days: day D expires at D 00:00 UTC + --days (default ${DEFAULT_RETENTION_DAYS}, seed 004), so --days days stay, today included`)
    .option('--days <n>', 'partition expiration in days', flagParser('--days', integer(1)), DEFAULT_RETENTION_DAYS)
    .action(async (cmd: { days: number }) => {
      const now = Date.now()
      const { dropOldPartitions } = await sink()
      console.log(JSON.stringify({ dropped: await dropOldPartitions(root(), cmd.days, now), keptFrom: firstKeptDay(now, cmd.days) }))
    })
}
