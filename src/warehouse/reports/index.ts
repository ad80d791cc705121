export { DEFAULT_PROVIDERS, PROVIDER_SQL, REPORTS, type Report, type ReportParam } from './definitions.ts'
export { getReport, listReports, ReportParamError, runReport, UnknownReportError, type ReportInfo, type ReportParams } from './run.ts'
