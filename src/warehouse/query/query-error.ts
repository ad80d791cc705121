/* A refused or failed query, apart from the warehouse itself: the CLI tells it by class without loading DuckDB. */

/** `forbidden_sql`: a tenant's query that reads beyond its views (tenant-sql.ts). */
export type QueryErrorCode = 'read_only' | 'sql_error' | 'timeout' | 'busy' | 'forbidden_sql'

/** A query the warehouse refused or could not run; `message` is meant for the user as it is. */
export class QueryError extends Error {
  constructor(
    readonly code: QueryErrorCode,
    message: string,
  ) {
    super(message)
    this.name = 'QueryError'
  }

  /** The HTTP status that says it: the caller's query (400; 403 reading beyond its tenant), or the warehouse being busy (503). */
  get status(): 400 | 403 | 503 {
    return this.code === 'busy' ? 503 : this.code === 'forbidden_sql' ? 403 : 400
  }
}
