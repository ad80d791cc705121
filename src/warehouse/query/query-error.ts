/* A refused or failed query, apart from the warehouse itself: the CLI tells it by class without loading DuckDB. */

export type QueryErrorCode = 'read_only' | 'sql_error' | 'timeout' | 'busy'

/** A query the warehouse refused or could not run; `message` is meant for the user as it is. */
export class QueryError extends Error {
  constructor(
    readonly code: QueryErrorCode,
    message: string,
  ) {
    super(message)
    this.name = 'QueryError'
  }

  /** The HTTP status that says it: the caller's query (400), or the warehouse being busy (503). */
  get status(): 400 | 503 {
    return this.code === 'busy' ? 503 : 400
  }
}
