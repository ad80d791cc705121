import type { Command } from 'commander'
import { join } from 'node:path'
import { ConfigError, describeSource } from '../config/config-error.ts'
import { durationMs, integer, oneOf } from '../config/parsers.ts'
import { flagParser } from '../config/read-setting.ts'
import { VIEW_NAMES } from '../warehouse/query/build-views.ts'
import { formatResult, type OutputFormat } from '../warehouse/query/format.ts'
import type { Warehouse } from '../warehouse/query/index.ts'
import { QueryError } from '../warehouse/query/query-error.ts'
import { listReports, ReportParamError, runReport, UnknownReportError } from '../warehouse/reports/index.ts'

const FORMATS: readonly OutputFormat[] = ['table', 'csv', 'json']

/** Repeatable `--param name=value`; errors in src/config's format (`--param x: must look like name=value`). */
function param(v: string, acc: Record<string, string>): Record<string, string> {
  const i = v.indexOf('=')
  if (i <= 0) throw new ConfigError(describeSource({ flag: '--param' }, v), 'must look like name=value')
  return { ...acc, [v.slice(0, i)]: v.slice(i + 1) }
}

interface CommonOpts {
  format: OutputFormat
  warehouse?: string
  limit: number
  timeout: number
}

/** Errors the user can act on: `tagstream: …` on stderr, exit code 2. Anything else is a bug and propagates. */
function fail(err: unknown): void {
  if (err instanceof QueryError || err instanceof UnknownReportError || err instanceof ReportParamError) {
    process.stderr.write(`tagstream: ${err.message}\n`)
    process.exitCode = 2
    return
  }
  throw err
}

async function withWarehouse(program: Command, o: CommonOpts, fn: (wh: Warehouse) => Promise<void>): Promise<void> {
  const dir = o.warehouse ?? join(program.opts<{ data: string }>().data, 'warehouse')
  // DuckDB is loaded when a command needs it, not when the CLI starts (`tagstream --help` stays fast).
  const { openWarehouse } = await import('../warehouse/query/warehouse.ts')
  const wh = await openWarehouse(dir, { refreshMs: 0 })
  try {
    await fn(wh)
  } catch (err) {
    fail(err)
  } finally {
    wh.close()
  }
}

/** `tagstream query "SQL"` and `tagstream report [NAME]` over the Parquet warehouse. */
export function registerQuery(program: Command): void {
  const common = (cmd: Command) =>
    cmd
      .option('--format <format>', 'table, csv or json', flagParser('--format', oneOf(FORMATS)), 'table' as OutputFormat)
      .option('--warehouse <dir>', 'warehouse directory (default <data>/warehouse)')
      .option('--limit <rows>', 'rows returned at most', flagParser('--limit', integer(1)), 10_000)
      .option('--timeout <ms>', 'interrupt the query after this long', flagParser('--timeout', durationMs(1)), 10_000)

  common(
    program
      .command('query')
      .description(`run one read-only SQL query (SELECT or WITH) over the warehouse views: ${VIEW_NAMES.join(', ')}`)
      .argument('<sql>', 'the query'),
  ).action(async (sql: string, o: CommonOpts) => {
    await withWarehouse(program, o, async (wh) => {
      process.stdout.write(formatResult(await wh.query(sql, { maxRows: o.limit, timeoutMs: o.timeout }), o.format))
    })
  })

  common(
    program
      .command('report')
      .description('run a named report; without NAME, list the reports')
      .argument('[name]', 'report name')
      .option('--tenant <name>', "only this tenant's data ('*' = all)", '*')
      .option('--param <name=value>', 'a report parameter (repeatable)', param, {} as Record<string, string>),
  ).action(async (name: string | undefined, o: CommonOpts & { tenant: string; param: Record<string, string> }) => {
    if (name === undefined) {
      const reports = listReports()
      if (o.format === 'json') process.stdout.write(JSON.stringify(reports) + '\n')
      else {
        const w = Math.max(...reports.map((r) => r.name.length))
        for (const r of reports) process.stdout.write(`${r.name.padEnd(w)}  ${r.question}\n`)
      }
      return
    }
    await withWarehouse(program, o, async (wh) => {
      const r = await runReport(wh, name, { ...o.param, tenant: o.tenant }, { maxRows: o.limit, timeoutMs: o.timeout })
      process.stdout.write(formatResult(r, o.format))
    })
  })
}
