import { windowShape } from '../../rules/window-shape.ts'
import type { Aggregate, CompareExpr, Expr, Literal, TraitDefinition, TraitName } from '../../rules/index.ts'
import { isKnownTrait, literalValue, PREDICTED_TRAIT_PREFIX, PREDICTION_EVENT_NAME, TRAIT_LIMITS } from '../../rules/index.ts'
import { MIN_EVENT_TIME } from '../../events/index.ts'

/**
 * A segment rule compiled to DuckDB SQL over the warehouse `events` view: the members at time T,
 * with the streaming engine's semantics — bucketed windows, "a comparison with a null side is
 * false" followed by two-valued logic, only JSON numbers feeding sum/min/max/avg, traits as the
 * engine keeps them (latest string value in arrival order, i.e. by log offset).
 *
 * The result has one row per member: (tenant, user_id). `keep` is not applied: it depends on the
 * history of evaluations, not on the events alone. `traits` are the rules file's declared traits.
 *
 * `$prediction` rows (the daily scoring run's, docs/predictions.md) are not activity: only the
 * predicted.* traits read them, and a user with nothing else is no user, as in the engine.
 */
/** The engine's settings the SQL must match (the engine's EngineOptions has them all). */
interface SqlOptions {
  bucketsPerWindow: number
  purchaseEvents: readonly string[]
  purchaseAmountField: string
  newUserMs: number
}

export function ruleToSql(when: Expr, T: number, options: SqlOptions, traits: readonly TraitDefinition[] = []): string {
  const ctx: Ctx = { T, options, traits: new Map(traits.map((t) => [t.name, t])) }
  const cond = condition(when, ctx)
  return `SELECT tenant, user_id FROM events WHERE epoch_ms(ts) <= ${T} GROUP BY tenant, user_id HAVING count(*) FILTER (WHERE ${ACTIVITY}) > 0 AND ${cond}`
}

/** Every row but a prediction's: what first_seen, event_count, profile properties and declared traits read. */
const ACTIVITY = `event <> ${quoteString(PREDICTION_EVENT_NAME)}`

interface Ctx {
  T: number
  options: SqlOptions
  traits: ReadonlyMap<string, TraitDefinition>
}

const NUMERIC = `('DOUBLE', 'BIGINT', 'UBIGINT', 'INTEGER')`

function quoteString(s: string): string {
  return `'${s.replaceAll("'", "''")}'`
}

function jsonPath(path: readonly string[]): string {
  return quoteString('$' + path.map((k) => `."${k.replaceAll('"', '\\"')}"`).join(''))
}

/** A condition in SQL that is never NULL, so NOT/AND/OR behave as the engine's two-valued logic. */
function condition(e: Expr, ctx: Ctx, where: 'row' | 'user' = 'user'): string {
  switch (e.kind) {
    case 'and':
      return `(${condition(e.left, ctx, where)} AND ${condition(e.right, ctx, where)})`
    case 'or':
      return `(${condition(e.left, ctx, where)} OR ${condition(e.right, ctx, where)})`
    case 'not':
      return `(NOT ${condition(e.operand, ctx, where)})`
    case 'compare':
      return compare(e, ctx, where)
    case 'in': {
      const v = value(e.operand, ctx, where)
      const list = e.values.map((l) => typedEquals(v, l))
      const matches = list.length === 0 ? 'false' : list.join(' OR ')
      return `coalesce(${v.notNull} AND ${e.negated ? `NOT (${matches})` : `(${matches})`}, false)`
    }
    default: {
      const v = value(e, ctx, where)
      return `coalesce(${v.type === 'boolean' ? `${v.sql} = true` : 'false'}, false)`
    }
  }
}

/** `json`: an event property, whose JSON type is only known per row (isNumber / isString test it). */
type Typed = { sql: string; type: 'number' | 'string' | 'boolean' | 'json'; notNull: string; isNumber?: string; isString?: string }

function value(e: Expr, ctx: Ctx, where: 'row' | 'user'): Typed {
  switch (e.kind) {
    case 'number':
    case 'duration':
      return { sql: String(literalValue(e)), type: 'number', notNull: 'true' }
    case 'string':
      return { sql: quoteString(e.value), type: 'string', notNull: 'true' }
    case 'boolean':
      return { sql: String(e.value), type: 'boolean', notNull: 'true' }
    case 'field': {
      // A property of the event in scope (inside a filter: the aggregated event).
      const p = jsonPath(e.path)
      const t = `json_type(properties, ${p})`
      return {
        sql: `json_extract_string(properties, ${p})`,
        type: 'json',
        notNull: `(${t} IN ${NUMERIC} OR ${t} IN ('VARCHAR', 'BOOLEAN'))`,
        isNumber: `${t} IN ${NUMERIC}`,
        isString: `${t} = 'VARCHAR'`,
      }
    }
    case 'aggregate': {
      const sql = aggregate(e, ctx)
      return { sql, type: 'number', notNull: `(${sql}) IS NOT NULL` }
    }
    case 'trait':
      return anyTrait(e.name, ctx)
    case 'since': {
      const t = anyTrait(e.trait, ctx)
      return { sql: `(${ctx.T} - ${t.sql})`, type: 'number', notNull: t.notNull }
    }
    default: {
      const c = condition(e, ctx, where)
      return { sql: c, type: 'boolean', notNull: 'true' }
    }
  }
}

/** A built-in or declared trait in SQL. */
function anyTrait(name: string, ctx: Ctx): Typed {
  if (isKnownTrait(name)) return trait(name, ctx)
  const def = ctx.traits.get(name)
  if (def === undefined) throw new Error(`no SQL for trait ${name}: it is not declared`)
  if (def.kind === 'computed') {
    const sql = aggregate(def.compute, ctx)
    return { sql, type: 'number', notNull: `(${sql}) IS NOT NULL` }
  }
  // The engine's rule (src/engine/custom-traits.ts): among the named events, values of the trait's
  // type; the latest event time wins, the greater value at equal times.
  const p = jsonPath(def.property)
  const t = `json_type(properties, ${p})`
  const s = `json_extract_string(properties, ${p})`
  const events = def.from === null ? ACTIVITY : `event IN (${def.from.map(quoteString).join(', ')})`
  let v: string
  let ok: string
  let type: Typed['type']
  switch (def.type) {
    case 'string':
      v = s
      ok = `(${t} = 'VARCHAR' OR ${t} IN ${NUMERIC}) AND length(${s}) <= ${TRAIT_LIMITS.stringLength}`
      type = 'string'
      break
    case 'number':
      v = `CAST(${s} AS DOUBLE)`
      ok = `${t} IN ${NUMERIC}`
      type = 'number'
      break
    case 'boolean':
      v = `CAST(${s} AS BOOLEAN)`
      ok = `${t} = 'BOOLEAN'`
      type = 'boolean'
      break
    case 'timestamp':
      // Epoch milliseconds, or an ISO-8601 text read by DuckDB (docs/segments.md, "Custom traits").
      v = `(CASE WHEN ${t} IN ${NUMERIC} THEN floor(CAST(${s} AS DOUBLE)) ELSE epoch_ms(try_cast(${s} AS TIMESTAMPTZ)) END)`
      ok = `(${t} IN ${NUMERIC} OR ${t} = 'VARCHAR') AND ${v} >= ${MIN_EVENT_TIME}`
      type = 'number'
      break
  }
  const sql = `arg_max(${v}, {'t': epoch_ms(ts), 's': ${v}}) FILTER (WHERE ${events} AND ${ok})`
  return { sql, type, notNull: `(${sql}) IS NOT NULL` }
}

/** A registry trait in SQL. Exhaustive over TraitName: a trait added to src/rules/traits.ts does not compile until backfill can compute it. */
function trait(name: TraitName, ctx: Ctx): Typed {
  const num = (sql: string): Typed => ({ sql, type: 'number', notNull: `(${sql}) IS NOT NULL` })
  switch (name) {
    case 'first_seen':
      return num(`min(epoch_ms(ts)) FILTER (WHERE ${ACTIVITY})`)
    case 'last_seen':
      return num(`max(epoch_ms(ts)) FILTER (WHERE ${ACTIVITY})`)
    case 'event_count':
      return num(`count(*) FILTER (WHERE ${ACTIVITY})`)
    case 'total_purchases': {
      const events = ctx.options.purchaseEvents.map(quoteString).join(', ')
      const p = jsonPath([ctx.options.purchaseAmountField])
      return num(`coalesce(${exactSum(`CAST(json_extract_string(properties, ${p}) AS DOUBLE)`, `event IN (${events}) AND json_type(properties, ${p}) IN ${NUMERIC}`)}, 0)`)
    }
    case 'is_new':
      return { sql: `(${ctx.T} - min(epoch_ms(ts)) FILTER (WHERE ${ACTIVITY}) < ${ctx.options.newUserMs})`, type: 'boolean', notNull: 'true' }
    case 'country':
    case 'language':
    case 'user_agent':
    case 'referrer':
    case 'host': {
      // Profile properties: the value of the latest event time, the greater string at equal times (docs/engine.md, Traits).
      const p = jsonPath([name])
      const v = `json_extract_string(properties, ${p})`
      const sql = `arg_max(${v}, {'t': epoch_ms(ts), 's': ${v}}) FILTER (WHERE ${ACTIVITY} AND json_type(properties, ${p}) = 'VARCHAR')`
      return { sql, type: 'string', notNull: `(${sql}) IS NOT NULL` }
    }
    case 'predicted.purchase_7d':
    case 'predicted.churn_7d':
    case 'predicted.wealth_30d': {
      const p = jsonPath([name.slice(PREDICTED_TRAIT_PREFIX.length)])
      return num(latestPrediction(`CASE WHEN json_type(properties, ${p}) IN ${NUMERIC} THEN CAST(json_extract_string(properties, ${p}) AS DOUBLE) END`))
    }
    case 'predicted.model_version': {
      const p = jsonPath(['model_version'])
      const sql = latestPrediction(`CASE WHEN json_type(properties, ${p}) = 'VARCHAR' THEN json_extract_string(properties, ${p}) END`)
      return { sql, type: 'string', notNull: `(${sql}) IS NOT NULL` }
    }
    case 'predicted.scored_at':
      return num(latestPrediction('epoch_ms(ts)'))
    default:
      return unknownTrait(name)
  }
}

/**
 * A value of the user's latest prediction row: the greatest ts, the later log offset at equal ones
 * (the engine's order; a user's rows are in one partition). A struct, because arg_max skips rows whose
 * value is NULL, and a score the latest run did not publish must read as null, not as an older one.
 */
function latestPrediction(value: string): string {
  return `struct_extract(arg_max({'v': ${value}}, {'t': epoch_ms(ts), 'o': "offset"}) FILTER (WHERE event = ${quoteString(PREDICTION_EVENT_NAME)}), 'v')`
}

function unknownTrait(name: never): never {
  throw new Error(`no SQL for trait ${String(name)}`)
}

function aggregate(a: Aggregate, ctx: Ctx): string {
  const filters = [`event = ${quoteString(a.event)}`]
  if (a.window) {
    const shape = windowShape(a.window.ms, ctx.options.bucketsPerWindow)
    filters.push(`floor(epoch_ms(ts) / ${shape.bucketMs}) > ${Math.floor(ctx.T / shape.bucketMs) - shape.buckets}`)
  }
  if (a.filter) filters.push(condition(a.filter, ctx, 'row'))
  const where = filters.join(' AND ')
  if (a.fn === 'count') return `count(*) FILTER (WHERE ${where})`
  const p = jsonPath(a.field!)
  const t = `json_type(properties, ${p})`
  if (a.fn === 'distinct') return `count(DISTINCT json_extract(properties, ${p})) FILTER (WHERE ${where} AND (${t} IN ${NUMERIC} OR ${t} IN ('VARCHAR', 'BOOLEAN')))`
  const num = `CAST(json_extract_string(properties, ${p}) AS DOUBLE)`
  const numWhere = `${where} AND ${t} IN ${NUMERIC}`
  if (a.fn === 'sum') return `coalesce(${exactSum(num, numWhere)}, 0)`
  if (a.fn === 'avg') return `(${exactSum(num, numWhere)} / count(${num}) FILTER (WHERE ${numWhere}))`
  return `${a.fn}(${num}) FILTER (WHERE ${numWhere})`
}

/**
 * The rows one aggregate reads, for a live backfill (src/engine/backfill/): the conditions an event
 * must meet to feed it (its event name, its window as of T, its filter) and the SQL of the value it
 * feeds (null for count). Rows whose value the engine would ignore (a non-number for sum, min, max
 * and avg; anything but a number, string or boolean for distinct) are left out here, as
 * `aggregate` leaves them out of its FILTER. `type` is the JSON type of a distinct value.
 */
export function aggregateRowsSql(a: Aggregate, T: number, options: SqlOptions, traits: readonly TraitDefinition[] = []): { where: string; value: string | null; type: string | null } {
  const ctx: Ctx = { T, options, traits: new Map(traits.map((t) => [t.name, t])) }
  const filters = [`event = ${quoteString(a.event)}`]
  if (a.window) {
    const shape = windowShape(a.window.ms, options.bucketsPerWindow)
    filters.push(`floor(epoch_ms(ts) / ${shape.bucketMs}) > ${Math.floor(T / shape.bucketMs) - shape.buckets}`)
  }
  if (a.filter) filters.push(condition(a.filter, ctx, 'row'))
  if (a.fn === 'count') return { where: filters.join(' AND '), value: null, type: null }
  const p = jsonPath(a.field!)
  const t = `json_type(properties, ${p})`
  if (a.fn === 'distinct') return { where: [...filters, `(${t} IN ${NUMERIC} OR ${t} IN ('VARCHAR', 'BOOLEAN'))`].join(' AND '), value: `json_extract(properties, ${p})::VARCHAR`, type: t }
  return { where: [...filters, `${t} IN ${NUMERIC}`].join(' AND '), value: `CAST(json_extract_string(properties, ${p}) AS DOUBLE)`, type: null }
}

/** The engine's sums: each value rounded to whole millionths, added as integers (src/engine/metrics/exact-sum.ts). */
function exactSum(num: string, where: string): string {
  // floor(x + 0.5), not round(): DuckDB rounds halves away from zero, Math.round rounds them up.
  return `(sum(floor(${num} * 1000000 + 0.5)::BIGINT) FILTER (WHERE ${where}) / 1000000.0)`
}

function typedEquals(v: Typed, lit: Literal): string {
  const k = literalValue(lit)
  if (typeof k === 'number') return v.type === 'json' ? `(${v.isNumber} AND CAST(${v.sql} AS DOUBLE) = ${k})` : v.type === 'number' ? `${v.sql} = ${k}` : 'false'
  if (typeof k === 'string') return v.type === 'json' ? `(${v.isString} AND ${v.sql} = ${quoteString(k)})` : v.type === 'string' ? `${v.sql} = ${quoteString(k)}` : 'false'
  return v.type === 'json' ? `(json_extract_string(properties, '$') IS NOT NULL AND ${v.sql} = '${k}')` : v.type === 'boolean' ? `${v.sql} = ${k}` : 'false'
}

const SQL_OPS: Record<CompareExpr['op'], string> = { '=': '=', '!=': '<>', '<': '<', '<=': '<=', '>': '>', '>=': '>=' }

/** Ordering only between two numbers or two strings; a null side is false (engine semantics). */
function compare(e: CompareExpr, ctx: Ctx, where: 'row' | 'user'): string {
  const l = value(e.left, ctx, where)
  const r = value(e.right, ctx, where)
  const same = (op: string): string[] => {
    const out: string[] = []
    for (const kind of ['number', 'string', 'boolean'] as const) {
      const side = (v: Typed): string | null =>
        v.type === kind ? v.notNull : v.type === 'json' ? (kind === 'number' ? v.isNumber! : kind === 'string' ? v.isString! : `${v.notNull} AND ${v.sql} IN ('true', 'false')`) : null
      const a = side(l)
      const b = side(r)
      if (a === null || b === null) continue
      if (kind === 'boolean' && op !== '=') continue
      const cast = (v: Typed) => (v.type === 'json' && kind === 'number' ? `CAST(${v.sql} AS DOUBLE)` : v.type === 'boolean' && kind === 'boolean' ? `CAST(${v.sql} AS VARCHAR)` : v.sql)
      out.push(`(${a} AND ${b} AND ${cast(l)} ${op} ${cast(r)})`)
    }
    return out
  }
  if (e.op === '!=') {
    // Both present and not equal: values of different types count as different, as in the engine.
    const eq = same('=')
    return `coalesce(${l.notNull} AND ${r.notNull} AND NOT (${eq.length ? eq.join(' OR ') : 'false'}), false)`
  }
  const parts = same(SQL_OPS[e.op])
  return parts.length === 0 ? 'false' : `coalesce(${parts.join(' OR ')}, false)`
}
