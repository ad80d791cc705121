import type { QueryOptions, QueryResult, Warehouse } from '../query/index.ts'
import { REPORTS, type Report, type ReportParam } from './definitions.ts'

export class UnknownReportError extends Error {
  constructor(readonly report: string) {
    super(`no report "${report}" (reports: ${REPORTS.map((r) => r.name).join(', ')})`)
    this.name = 'UnknownReportError'
  }
}

export class ReportParamError extends Error {
  constructor(
    readonly param: string,
    message: string,
  ) {
    super(message)
    this.name = 'ReportParamError'
  }
}

export interface ReportInfo {
  name: string
  title: string
  question: string
  params: Report['params']
  sql: string
}

export function listReports(): ReportInfo[] {
  return REPORTS.map((r) => ({ name: r.name, title: r.title, question: r.question, params: r.params, sql: r.sql }))
}

export function getReport(name: string): Report | undefined {
  return REPORTS.find((r) => r.name === name)
}

/** A parameter's value as given; a list parameter may also come as an array (`?providers=a&providers=b`). */
export type ReportParams = Record<string, string | number | readonly string[] | undefined>

/** One name of a `list` parameter: a host label or identifier. */
const LIST_NAME = /^[a-z0-9_-]{1,63}$/
/** Names in one `list` parameter at most. */
const MAX_LIST_NAMES = 100

/** A `list` parameter → its names, trimmed, lower-cased and joined by `,` (the form the SQL splits). */
function bindList(p: ReportParam, v: string | number | readonly string[]): string {
  const names = (typeof v === 'object' ? v.join(',') : String(v)).split(',').map((n) => n.trim().toLowerCase())
  if (names.length > MAX_LIST_NAMES) throw new ReportParamError(p.name, `parameter "${p.name}" takes at most ${MAX_LIST_NAMES} names, got ${names.length}`)
  for (const n of names) {
    if (n === '') throw new ReportParamError(p.name, `parameter "${p.name}" has an empty name: give names separated by commas, like "${String(p.default)}"`)
    if (!LIST_NAME.test(n)) throw new ReportParamError(p.name, `parameter "${p.name}": "${n}" is not a name (letters, digits, "-" and "_", at most 63 characters)`)
  }
  return names.join(',')
}

/** Declared parameters only, typed, with defaults; anything unknown is an error, not ignored. */
function bindParams(report: Report, given: ReportParams): Record<string, string | number> {
  for (const k of Object.keys(given)) {
    if (given[k] !== undefined && !report.params.some((p) => p.name === k)) {
      throw new ReportParamError(k, `report "${report.name}" has no parameter "${k}" (parameters: ${report.params.map((p) => p.name).join(', ')})`)
    }
  }
  const out: Record<string, string | number> = {}
  for (const p of report.params) {
    const v = given[p.name]
    if (v === undefined || v === '' || (typeof v === 'object' && v.length === 0)) out[p.name] = p.type === 'list' ? bindList(p, p.default) : p.default
    else if (p.type === 'list') out[p.name] = bindList(p, v)
    else if (typeof v === 'object') throw new ReportParamError(p.name, `parameter "${p.name}" is given ${v.length} times; give it once`)
    else if (p.type === 'number') {
      const n = typeof v === 'number' ? v : Number(v)
      if (!Number.isFinite(n) || n < 0) throw new ReportParamError(p.name, `parameter "${p.name}" must be a non-negative number, got "${v}"`)
      out[p.name] = n
    } else out[p.name] = String(v)
  }
  return out
}

/** Runs a named report. Throws UnknownReportError, ReportParamError or the warehouse's QueryError. */
export async function runReport(warehouse: Warehouse, name: string, params: ReportParams = {}, opts: Omit<QueryOptions, 'params'> = {}): Promise<QueryResult> {
  const report = getReport(name)
  if (!report) throw new UnknownReportError(name)
  return warehouse.query(report.sql, { ...opts, params: bindParams(report, params) })
}
