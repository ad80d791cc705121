import type { PredictOptions } from './predict-options.ts'

/*
 * Features and labels in SQL over the warehouse (docs/predictions.md, "Features"). Everything is
 * read once into `daily`, one row per tenant, user and UTC day with activity; a (user, cutoff) pair
 * then joins only that user's days. Day numbers are days since 1970-01-01 (UTC).
 */

/** SQL string literal. */
export function sqlText(s: string): string {
  return `'${s.replaceAll("'", "''")}'`
}

/** The features every model reads, in the order of a row, with what each measures (docs/predictions.md). */
export const BASE_FEATURES = [
  ['recency_days', 'days from the last active day to the cutoff'],
  ['active_days_7', 'active days in the 7 days before the cutoff'],
  ['active_days_28', 'active days in the 28 days before the cutoff'],
  ['events_7', 'log(1 + events in the last 7 days)'],
  ['events_28', 'log(1 + events in the last 28 days)'],
  ['trend', 'events in the last 7 days over a quarter of the last 28 days (+1)'],
  ['sessions_7', 'log(1 + sessions started in the last 7 days)'],
  ['sessions_28', 'log(1 + sessions started in the last 28 days)'],
  ['purchases_7', 'log(1 + purchases in the last 7 days)'],
  ['purchases_28', 'log(1 + purchases in the last 28 days)'],
  ['purchases_all', 'log(1 + purchases before the cutoff)'],
  ['spend_28', 'log(1 + money spent in the last 28 days)'],
  ['spend_all', 'log(1 + money spent before the cutoff)'],
  ['days_since_purchase', 'days since the last purchase, 90 when none'],
  ['tenure_days', 'days since the first event, at most 90'],
  ['segment_entries_7', 'log(1 + segment entries in the last 7 days)'],
  ['has_wealth', '1 when the user has a player_wealth'],
  ['wealth', 'the last player_wealth before the cutoff (0 when none)'],
  ['wealth_change_7', 'player_wealth now minus 7 days before (0 when unknown)'],
  ['wealth_trend_7', 'log(1 + player_wealth now) minus log(1 + player_wealth 7 days before), wealth below 0 taken as 0 (0 when unknown)'],
  ['wealth_trend_28', 'the same over 28 days'],
] as const

export type BaseFeature = (typeof BASE_FEATURES)[number][0]

/**
 * A feature row's names: the base features, then `mix_<event>` for the tenant's most common events
 * and `mix_#<k>` for the slots of a tenant with fewer event names (always zero).
 */
export function featureNames(mix: readonly string[], slots: number): string[] {
  return [...BASE_FEATURES.map(([n]) => n), ...Array.from({ length: slots }, (_, k) => (mix[k] === undefined ? `mix_#${k}` : `mix_${mix[k]}`))]
}

/** The purchase amount of an events row. */
function amount(o: PredictOptions): string {
  if (o.amountField === 'amount') return 'amount'
  return `TRY_CAST(json_extract_string(properties, ${sqlText(`$.${o.amountField}`)}) AS DOUBLE)`
}

const DAY = (col: string) => `CAST(epoch_ms(${col}) // 86400000 AS INTEGER)`

/**
 * Each tenant's most common events other than purchases (ties by name), up to `k`: the event mix
 * features. Counted from the event directories' row counts (Parquet metadata), not the rows.
 */
export function topEventsSql(o: PredictOptions, asOfMs: number): string {
  const purchases = o.purchaseEvents.map(sqlText).join(', ')
  return `SELECT tenant, event, k FROM (
  SELECT tenant, event, row_number() OVER (PARTITION BY tenant ORDER BY count(*) DESC, event) - 1 AS k
  FROM events WHERE epoch_ms(ts) < ${asOfMs} AND user_id IS NOT NULL AND event NOT IN (${purchases}) GROUP BY tenant, event
) WHERE k < ${o.mixEvents}`
}

/**
 * `daily`: per tenant, user and day before `asOfMs`, the day's events, purchases, spend, last
 * wealth, sessions started, segment entries and the counts of the top events (`m0`…). `topEvents`
 * is a table of (tenant, event, k).
 */
export function dailySql(o: PredictOptions, asOfMs: number): string {
  const purchases = o.purchaseEvents.map(sqlText).join(', ')
  const mix = Array.from({ length: o.mixEvents }, (_, k) => `count(*) FILTER (WHERE t.k = ${k})::DOUBLE AS m${k}`).join(', ')
  return `WITH ev AS (
  SELECT e.tenant, e.user_id, ${DAY('e.ts')} AS d,
    count(*)::DOUBLE AS events,
    count(*) FILTER (WHERE e.event IN (${purchases}))::DOUBLE AS purchases,
    coalesce(sum(${amount(o)}) FILTER (WHERE e.event IN (${purchases}) AND isfinite(${amount(o)})), 0)::DOUBLE AS spend,
    arg_max(e.player_wealth, e.ts) FILTER (WHERE isfinite(e.player_wealth))::DOUBLE AS wealth${mix === '' ? '' : `,\n    ${mix}`}
  FROM events e LEFT JOIN top_events t ON t.tenant = e.tenant AND t.event = e.event
  WHERE epoch_ms(e.ts) < ${asOfMs} AND e.user_id IS NOT NULL
  GROUP BY ALL),
ss AS (SELECT tenant, user_id, ${DAY('started_at')} AS d, count(*)::DOUBLE AS sessions FROM sessions WHERE epoch_ms(started_at) < ${asOfMs} GROUP BY ALL),
sc AS (SELECT tenant, user_id, ${DAY('"at"')} AS d, count(*)::DOUBLE AS entries FROM segment_changes WHERE change = 'entered' AND epoch_ms("at") < ${asOfMs} GROUP BY ALL)
SELECT ev.*, coalesce(ss.sessions, 0) AS sessions, coalesce(sc.entries, 0) AS entries
FROM ev LEFT JOIN ss USING (tenant, user_id, d) LEFT JOIN sc USING (tenant, user_id, d)`
}

/** A window's filter on the joined day `d.d` relative to the pair's cutoff `p.c`: [c - from, c - to). */
const within = (from: number, to = 0) => `d.d >= p.c - ${from} AND d.d < p.c${to === 0 ? '' : ` - ${to}`}`
const log1p = (sql: string) => `ln(1 + coalesce(${sql}, 0))`
/** The last wealth of the pair's days matching `where`. */
const LAST_WEALTH = (where: string) => `arg_max(d.wealth, d.d) FILTER (WHERE ${where} AND d.wealth IS NOT NULL)`
/** log(1 + wealth now) − log(1 + wealth `days` before); greatest() skips NULLs, so an unknown end is checked first (0). */
const wealthTrend = (days: number) => {
  const now = LAST_WEALTH('d.d < p.c')
  const then = LAST_WEALTH(`d.d < p.c - ${days}`)
  return `CASE WHEN ${now} IS NULL OR ${then} IS NULL THEN 0 ELSE ln(1 + greatest(${now}, 0)) - ln(1 + greatest(${then}, 0)) END`
}

/** The feature columns over `pairs p JOIN daily d` grouped by pair, in featureNames order. */
export function featureSelect(o: PredictOptions): string {
  const before = 'd.d < p.c'
  const sum = (col: string, days: number) => `sum(d.${col}) FILTER (WHERE ${within(days)})`
  const cols = [
    `(p.c - max(d.d) FILTER (WHERE ${before}))::DOUBLE`,
    `count(*) FILTER (WHERE ${within(7)})::DOUBLE`,
    `count(*) FILTER (WHERE ${within(28)})::DOUBLE`,
    log1p(sum('events', 7)),
    log1p(sum('events', 28)),
    `coalesce(${sum('events', 7)}, 0) / (coalesce(${sum('events', 28)}, 0) / 4 + 1)`,
    log1p(sum('sessions', 7)),
    log1p(sum('sessions', 28)),
    log1p(sum('purchases', 7)),
    log1p(sum('purchases', 28)),
    log1p(`sum(d.purchases) FILTER (WHERE ${before})`),
    log1p(sum('spend', 28)),
    log1p(`sum(d.spend) FILTER (WHERE ${before})`),
    `least(90, coalesce(p.c - max(d.d) FILTER (WHERE ${before} AND d.purchases > 0), 90))::DOUBLE`,
    `least(90, p.c - min(d.d))::DOUBLE`,
    log1p(sum('entries', 7)),
    `CASE WHEN count(d.wealth) FILTER (WHERE ${before}) > 0 THEN 1 ELSE 0 END::DOUBLE`,
    `coalesce(arg_max(d.wealth, d.d) FILTER (WHERE ${before} AND d.wealth IS NOT NULL), 0)`,
    `coalesce(arg_max(d.wealth, d.d) FILTER (WHERE ${before} AND d.wealth IS NOT NULL) - arg_max(d.wealth, d.d) FILTER (WHERE d.d < p.c - 7 AND d.wealth IS NOT NULL), 0)`,
    wealthTrend(7),
    wealthTrend(28),
  ]
  for (let k = 0; k < o.mixEvents; k++) cols.push(`coalesce(sum(d.m${k}) FILTER (WHERE ${within(28)}) / nullif(${sum('events', 28)}, 0), 0)`)
  return cols.map((c, i) => `${c} AS f${i}`).join(',\n  ')
}

/**
 * The label columns for a pair: a purchase in [c, c+7), no activity in [c, c+7), and the last
 * wealth before c + horizon (the wealth model's label on its 30-day pairs).
 */
export function labelSelect(horizonDays: number): string {
  return `coalesce(bool_or(d.purchases > 0) FILTER (WHERE d.d >= p.c AND d.d < p.c + 7), false)::DOUBLE AS y_purchase,
  (count(*) FILTER (WHERE d.d >= p.c AND d.d < p.c + 7) = 0)::DOUBLE AS y_churn,
  arg_max(d.wealth, d.d) FILTER (WHERE d.d < p.c + ${horizonDays} AND d.wealth IS NOT NULL) AS y_wealth`
}

/**
 * One row per pair of `pairs` (user_id, c, eval) with its features f0… and, with `horizonDays`,
 * its labels: the pair's days before the cutoff (and up to the horizon after it) joined from
 * `daily`. Pairs whose user was not active in the lookback before the cutoff are left out.
 */
export function pairRowsSql(o: PredictOptions, tenant: string, horizonDays: number | null): string {
  const upTo = horizonDays === null ? 'p.c' : `p.c + ${Math.max(horizonDays, 7)}`
  return `SELECT p.user_id, p.c, p.eval,
  ${featureSelect(o)}${horizonDays === null ? '' : `,\n  ${labelSelect(Math.max(horizonDays, 7))}`}
FROM pairs p JOIN daily d ON d.tenant = ${sqlText(tenant)} AND d.user_id = p.user_id AND d.d < ${upTo}
GROUP BY p.user_id, p.c, p.eval
HAVING max(d.d) FILTER (WHERE d.d < p.c) >= p.c - ${o.lookbackDays}
ORDER BY p.eval, p.user_id, p.c`
}
