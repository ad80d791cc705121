/*
 * One tenant's SQL over the warehouse (docs/tenancy.md, "Tenant SQL"). The statement is read from
 * DuckDB's own parse tree (json_serialize_sql: the parser that will run it, not a second one of
 * ours), and it may name only the warehouse's views, unqualified, and its own CTEs. The caller then
 * runs it on a connection where each of those names is a temporary view of that tenant's rows, so
 * an unqualified name can only reach them. Everything the walk does not know is refused: a DuckDB
 * that adds a node type fails closed.
 */

import type { DuckDBConnection } from '@duckdb/node-api'
import { QueryError } from './query-error.ts'
import { ident, lit } from './views.ts'

/** Query nodes a statement may hold. */
const QUERY_NODES = new Set(['SELECT_NODE', 'SET_OPERATION_NODE', 'RECURSIVE_CTE_NODE', 'CTE_NODE'])
/** Table references besides named tables (checked on their own); TABLE_FUNCTION is never allowed. */
const TABLE_REFS = new Set(['JOIN', 'SUBQUERY', 'EMPTY', 'EXPRESSION_LIST', 'PIVOT'])
/** Result modifiers (ORDER BY, LIMIT, DISTINCT) and the order of an ORDER BY term. */
const MODIFIERS = new Set(['ORDER_MODIFIER', 'LIMIT_MODIFIER', 'LIMIT_PERCENT_MODIFIER', 'DISTINCT_MODIFIER', 'ORDER_DEFAULT', 'ASCENDING', 'DESCENDING'])

/** Functions that read outside the statement's tables: files, settings, the environment, other SQL. */
const REFUSED_FUNCTIONS = new Set([
  'getenv',
  'current_setting',
  'getvariable',
  'query',
  'query_table',
  'glob',
  'sniff_csv',
  'json_serialize_sql',
  'json_deserialize_sql',
  'json_execute_serialized_sql',
])
const REFUSED_PREFIXES = ['duckdb_', 'pragma_', 'read_', 'parquet_', 'iceberg_', 'delta_']

/** What the database holds besides the views, read once a rebuild (catalogNames). */
export interface CatalogNames {
  /** Every table and view name in the database, lower case: a CTE may not take one of the others. */
  existing: ReadonlySet<string>
  /** Macros defined in the database (not DuckDB's own), lower case: their bodies may read tables. */
  macros: ReadonlySet<string>
}

export interface TenantTables extends CatalogNames {
  /** The names the statement may read (the warehouse's views), lower case. */
  views: ReadonlySet<string>
}

export async function catalogNames(conn: DuckDBConnection): Promise<CatalogNames> {
  const names = await conn.runAndReadAll('SELECT lower(table_name) FROM duckdb_tables() UNION ALL SELECT lower(view_name) FROM duckdb_views()')
  const defined = await conn.runAndReadAll("SELECT lower(function_name) FROM duckdb_functions() WHERE function_type IN ('macro', 'table_macro') AND NOT internal")
  return { existing: new Set(names.getRows().map((r) => String(r[0]))), macros: new Set(defined.getRows().map((r) => String(r[0]))) }
}

/**
 * Why a parsed statement (json_serialize_sql's result) may not run as one tenant's, or null; the
 * views it names are added to `reads`.
 */
export function tenantSqlViolation(tree: unknown, tables: TenantTables, reads: Set<string> = new Set()): string | null {
  const ctes = new Set<string>()
  collectCtes(tree, ctes)
  for (const name of ctes) {
    if (tables.existing.has(name) && !tables.views.has(name)) return `a CTE may not be named "${name}": that name is taken in the warehouse`
  }
  return walk(tree, tables, ctes, reads)
}

function collectCtes(v: unknown, out: Set<string>): void {
  if (Array.isArray(v)) for (const x of v) collectCtes(x, out)
  else if (isObject(v)) {
    const map = v.cte_map
    if (isObject(map) && Array.isArray(map.map)) for (const entry of map.map) if (isObject(entry) && typeof entry.key === 'string') out.add(entry.key.toLowerCase())
    for (const x of Object.values(v)) collectCtes(x, out)
  }
}

function walk(v: unknown, tables: TenantTables, ctes: ReadonlySet<string>, reads: Set<string>): string | null {
  if (Array.isArray(v)) {
    for (const x of v) {
      const why = walk(x, tables, ctes, reads)
      if (why !== null) return why
    }
    return null
  }
  if (!isObject(v)) return null
  const why = check(v, tables, ctes, reads)
  if (why !== null) return why
  for (const x of Object.values(v)) {
    const inner = walk(x, tables, ctes, reads)
    if (inner !== null) return inner
  }
  return null
}

function check(node: Record<string, unknown>, tables: TenantTables, ctes: ReadonlySet<string>, reads: Set<string>): string | null {
  if (node.class === 'FUNCTION') {
    const name = String(node.function_name).toLowerCase()
    if (nonEmpty(node.schema) || nonEmpty(node.catalog)) return `function ${name}: a qualified function name is not allowed in a tenant's query`
    if (REFUSED_FUNCTIONS.has(name) || REFUSED_PREFIXES.some((p) => name.startsWith(p)) || tables.macros.has(name)) return `function ${name} is not allowed in a tenant's query`
    return null
  }
  if (typeof node.class === 'string' || typeof node.type !== 'string') return null
  const type = node.type
  if (type === 'BASE_TABLE') {
    const name = String(node.table_name).toLowerCase()
    if (nonEmpty(node.schema_name) || nonEmpty(node.catalog_name)) return `table ${String(node.table_name)}: name a view without a schema or catalog (${[...tables.views].join(', ')})`
    if (!tables.views.has(name) && !ctes.has(name)) return `no view "${String(node.table_name)}": a tenant's query reads ${[...tables.views].join(', ')}`
    // A view's name shadowed by a CTE may still name the view outside the CTE's scope.
    if (tables.views.has(name)) reads.add(name)
    return null
  }
  if (type === 'TABLE_FUNCTION') return "table functions (read_parquet, glob, …) are not allowed in a tenant's query: read the views"
  if (QUERY_NODES.has(type) || TABLE_REFS.has(type) || MODIFIERS.has(type)) return null
  return `${type} is not allowed in a tenant's query`
}

function nonEmpty(v: unknown): boolean {
  return typeof v === 'string' && v !== ''
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/**
 * Makes `conn` one tenant's: `sql` is refused unless it reads only the views (tenantSqlViolation),
 * and each view it names becomes a temporary view of the tenant's rows, made from the view's own
 * SELECT (`views`, as the last rebuild made them). Temporary objects come first in DuckDB's name
 * lookup, and they end with the connection (one a query). Not a view over main's view of the same
 * name: DuckDB refuses temp.events over main.events as a recursion. Only the views the statement
 * names are made (each binds its files: about 2.5 ms over 240 files): every view's rows carry their
 * tenant, so the filter on top is the whole restriction, and a view another reads (profiles reads
 * events) may read main's.
 */
export async function restrictToTenant(conn: DuckDBConnection, sql: string, tenant: string, views: ReadonlyArray<readonly [string, string]>, names: CatalogNames): Promise<void> {
  const parsed = await conn.runAndReadAll('SELECT json_serialize_sql($1::VARCHAR)', [sql])
  const text = parsed.getRows()[0]?.[0]
  const tree: unknown = JSON.parse(typeof text === 'string' ? text : '{}')
  if (isObject(tree) && tree.error === true) {
    const why = typeof tree.error_message === 'string' ? tree.error_message : 'the statement could not be read'
    throw new QueryError(why.startsWith('Only SELECT') ? 'read_only' : 'sql_error', why)
  }
  const reads = new Set<string>()
  const why = tenantSqlViolation(tree, { ...names, views: new Set(views.map(([name]) => name)) }, reads)
  if (why !== null) throw new QueryError('forbidden_sql', why)
  for (const [name, select] of views) {
    if (reads.has(name)) await conn.run(`CREATE TEMP VIEW ${ident(name)} AS SELECT * FROM (${select}) WHERE tenant = ${lit(tenant)}`)
  }
}
