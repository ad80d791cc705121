/** A named report: one read-only SQL query over the warehouse views with declared parameters. */
export interface ReportParam {
  name: string
  /** `list`: comma-separated names (reports/run.ts, LIST_NAME), bound as one lower-cased text with `,` between them. */
  type: 'string' | 'number' | 'list'
  default: string | number
  description: string
}

export interface Report {
  name: string
  title: string
  /** The business question it answers, and the seed it comes from. */
  question: string
  sql: string
  params: ReportParam[]
}

const TENANT: ReportParam = { name: 'tenant', type: 'string', default: '*', description: "only this tenant's data; '*' = all tenants" }
/** Filter used by every report; the API binds the key's tenant, the CLI '*'. */
const forTenant = "($tenant = '*' OR tenant = $tenant)"

/** Provider from a Host header: the label before the top-level domain (user46.earthlink.com:5000 → earthlink). */
export const PROVIDER_SQL = `CASE
    WHEN host IS NULL OR trim(host) = '' THEN 'unknown'
    WHEN regexp_matches(host, '^[0-9.]+(:[0-9]+)?$') OR host LIKE '[%' THEN 'ip address'
    ELSE coalesce(nullif(regexp_extract(lower(host), '([a-z0-9-]+)\\.[a-z0-9-]+\\.?(:[0-9]+)?$', 1), ''), regexp_replace(lower(host), ':[0-9]+$', ''))
  END`

/** Seed 002's `event_type`: purchases split by item kind (`buy_sword`), other events by name. */
const EVENT_TYPE_SQL = "CASE WHEN event = 'purchase' AND kind IS NOT NULL THEN 'buy_' || kind ELSE event END"

/** Seed 002's `host_provider_list`, the default of the `providers` parameter (also the simulator's, src/sim/game/catalog.ts). */
export const DEFAULT_PROVIDERS: readonly string[] = ['comcast', 'att', 'google', 'frontier', 'cox', 'earthlink']

/**
 * Which joins count as membership in the org reports: approved ones only. Seed 003's affiliations
 * (the orgs a player belongs to) only ever gain approved joins; a refused join (insufficient_funds,
 * already_member) or one that does not say it was approved is not a member more. One definition so
 * that popular_orgs, avg_wealth_by_org and first_login_to_first_org_join cannot drift apart.
 */
const MEMBERSHIP_JOIN = "status = 'approved_join'"

export const REPORTS: readonly Report[] = [
  {
    name: 'popular_events',
    title: 'Most popular events',
    question: 'Seed 002: what are the most popular events across our user base? (purchases split by item kind, as buy_<kind>)',
    params: [TENANT],
    sql: `SELECT ${EVENT_TYPE_SQL} AS event_type, count(*) AS events
FROM events WHERE ${forTenant}
GROUP BY event_type ORDER BY events DESC, event_type`,
  },
  {
    name: 'events_by_provider',
    title: 'Events by internet provider',
    question: 'Seed 002: which internet providers do our users use, and which events are most popular on each? (provider parsed from the Host header)',
    params: [TENANT],
    // Aggregate per Host header first (thousands of values), then parse each host once.
    sql: `WITH h AS (
  SELECT host, ${EVENT_TYPE_SQL} AS event_type, count(*) AS n
  FROM events WHERE host IS NOT NULL AND ${forTenant} GROUP BY ALL)
SELECT ${PROVIDER_SQL} AS provider, event_type, sum(n) AS events
FROM h GROUP BY ALL ORDER BY provider, events DESC, event_type`,
  },
  {
    name: 'events_by_listed_provider',
    title: 'Events by internet provider, from a list of providers',
    question:
      "Seed 002: which of these internet providers do our users use, and which events are most popular on each? (a host belongs to the first listed provider that is one of its dot-separated labels; other hosts are 'other')",
    params: [TENANT, { name: 'providers', type: 'list', default: DEFAULT_PROVIDERS.join(','), description: 'providers to look for, comma-separated, first match wins (case-insensitive)' }],
    // Whole labels, not substrings as in seed 002's matcher: 'att' must not claim user1.seattle.net.
    sql: `WITH h AS (
  SELECT host, ${EVENT_TYPE_SQL} AS event_type, count(*) AS n
  FROM events WHERE host IS NOT NULL AND ${forTenant} GROUP BY ALL),
l AS (SELECT string_split(regexp_replace(lower(trim(host)), ':[0-9]+$', ''), '.') AS labels, event_type, n FROM h)
SELECT coalesce(list_filter(string_split($providers, ','), lambda p: list_contains(labels, p))[1], 'other') AS provider, event_type, sum(n) AS events
FROM l GROUP BY ALL ORDER BY provider, events DESC, event_type`,
  },
  {
    name: 'items_by_type_status',
    title: 'Items purchased by type and status',
    question: 'Seed 003: how many items of each type were purchased?',
    params: [TENANT],
    sql: `SELECT status, type, count(type) AS num_items FROM buys WHERE ${forTenant} GROUP BY status, type ORDER BY status, num_items DESC, type`,
  },
  {
    name: 'avg_price_by_type',
    title: 'Average price paid per item type',
    question: 'Seed 003: what is the average price paid for each type of item? (approved purchases)',
    params: [TENANT],
    sql: `SELECT type, round(avg(cost), 2) AS avg_cost, count(*) AS purchases FROM buys
WHERE status = 'approved_purchase' AND ${forTenant} GROUP BY type ORDER BY type`,
  },
  {
    name: 'popular_orgs',
    title: 'Most popular guilds and teams',
    question: 'Seed 003: which team or guild is most popular? (approved joins)',
    params: [TENANT],
    sql: `SELECT event_type, org, count(org) AS num_joins FROM social
WHERE ${MEMBERSHIP_JOIN} AND ${forTenant}
GROUP BY event_type, org ORDER BY num_joins DESC, event_type, org`,
  },
  {
    name: 'avg_wealth_by_org',
    title: 'Average wealth of players joining each organisation',
    question: 'Seed 003: what is the average wealth of players joining each organization? (approved joins, as popular_orgs counts them)',
    params: [TENANT],
    sql: `SELECT org, round(avg(player_wealth), 2) AS avg_wealth, count(*) AS joins FROM social
WHERE ${MEMBERSHIP_JOIN} AND ${forTenant} GROUP BY org ORDER BY org`,
  },
  {
    name: 'first_login_to_first_purchase',
    title: 'Time from first login to first purchase',
    question: 'Seed 003 (and 002): what is the mean time between a player logging in for the first time and their first (approved) purchase?',
    params: [TENANT],
    sql: `WITH first_login AS (
  SELECT tenant, user_id, min(ts) AS t FROM events WHERE event = 'login' AND status = 'ok' AND ${forTenant} GROUP BY ALL),
first_buy AS (
  SELECT tenant, user_id, min("timestamp") AS t FROM buys WHERE status = 'approved_purchase' AND ${forTenant} GROUP BY ALL),
d AS (SELECT epoch(b.t) - epoch(l.t) AS s FROM first_login l JOIN first_buy b USING (tenant, user_id) WHERE b.t >= l.t)
SELECT count(*) AS users, round(avg(s), 3) AS mean_seconds, round(median(s), 3) AS median_seconds,
  round(min(s), 3) AS min_seconds, round(max(s), 3) AS max_seconds FROM d`,
  },
  {
    name: 'first_login_to_first_org_join',
    title: 'Time from first login to first guild or team join',
    question: 'Seed 003: what is the mean time between a player logging in for the first time and their first (approved) guild or team join?',
    params: [TENANT],
    // The purchase version's shape: a player whose first join came before their first login is left out.
    sql: `WITH first_login AS (
  SELECT tenant, user_id, min(ts) AS t FROM events WHERE event = 'login' AND status = 'ok' AND ${forTenant} GROUP BY ALL),
first_join AS (
  SELECT tenant, user_id, min("timestamp") AS t FROM social WHERE ${MEMBERSHIP_JOIN} AND ${forTenant} GROUP BY ALL),
d AS (SELECT epoch(j.t) - epoch(l.t) AS s FROM first_login l JOIN first_join j USING (tenant, user_id) WHERE j.t >= l.t)
SELECT count(*) AS users, round(avg(s), 3) AS mean_seconds, round(median(s), 3) AS median_seconds,
  round(min(s), 3) AS min_seconds, round(max(s), 3) AS max_seconds FROM d`,
  },
  {
    name: 'wealth_distribution',
    title: 'Distribution of player wealth',
    question: "Seed 003: what is the distribution of player wealth? (each player's latest known wealth, in powers of ten or buckets of `width`)",
    params: [TENANT, { name: 'width', type: 'number', default: 0, description: 'bucket width; 0 = powers of ten (0, 1–9, 10–99, …)' }],
    sql: `WITH latest AS (
  SELECT tenant, user_id, arg_max(player_wealth, ts) AS wealth FROM events
  WHERE player_wealth IS NOT NULL AND ${forTenant} GROUP BY ALL),
b AS (
  SELECT CASE WHEN $width > 0 THEN floor(wealth / $width) * $width
              WHEN wealth < 1 THEN 0 ELSE pow(10, floor(log10(wealth))) END AS lower FROM latest)
SELECT lower AS min_wealth,
  CASE WHEN $width > 0 THEN lower + $width WHEN lower = 0 THEN 1 ELSE lower * 10 END AS below,
  count(*) AS players
FROM b GROUP BY lower ORDER BY lower`,
  },
  {
    name: 'wealth_by_time_played',
    title: 'Player wealth by time spent playing',
    question:
      "Seed 003: what is the distribution of player wealth by time spent playing? (each player's latest known wealth, by their total session time in minutes: powers of ten or buckets of `width`)",
    params: [TENANT, { name: 'width', type: 'number', default: 0, description: 'bucket width in minutes; 0 = powers of ten (under 1, 1–9, 10–99, …)' }],
    // Players are those with a known wealth (the game's); time played is the sum of their sessions' durations.
    sql: `WITH played AS (
  SELECT tenant, user_id, sum(duration) / 60 AS minutes FROM sessions WHERE ${forTenant} GROUP BY ALL),
latest AS (
  SELECT tenant, user_id, arg_max(player_wealth, ts) AS wealth FROM events
  WHERE player_wealth IS NOT NULL AND ${forTenant} GROUP BY ALL),
p AS (SELECT wealth, coalesce(minutes, 0) AS minutes FROM latest LEFT JOIN played USING (tenant, user_id)),
b AS (
  SELECT wealth, CASE WHEN $width > 0 THEN floor(minutes / $width) * $width
              WHEN minutes < 1 THEN 0 ELSE pow(10, floor(log10(minutes))) END AS lower FROM p)
SELECT lower AS min_minutes,
  CASE WHEN $width > 0 THEN lower + $width WHEN lower = 0 THEN 1 ELSE lower * 10 END AS below_minutes,
  count(*) AS players, min(wealth) AS min_wealth, round(median(wealth), 2) AS median_wealth, max(wealth) AS max_wealth,
  round(avg(wealth), 2) AS avg_wealth
FROM b GROUP BY lower ORDER BY lower`,
  },
  {
    name: 'daily_active_users',
    title: 'Daily active users',
    question: 'How many distinct users were active each day, with how many events?',
    params: [TENANT],
    sql: `SELECT dt AS day, count(DISTINCT user_id) AS users, count(*) AS events FROM events WHERE ${forTenant} GROUP BY dt ORDER BY dt`,
  },
  {
    name: 'segment_sizes_over_time',
    title: 'Segment sizes per hour',
    question: 'How many members did each segment have at the end of each hour? (running entered − exited from the segment-changes stream)',
    params: [TENANT],
    sql: `WITH h AS (
  SELECT segment, date_trunc('hour', "at") AS hour,
    count(*) FILTER (WHERE change = 'entered') AS entered, count(*) FILTER (WHERE change = 'exited') AS exited
  FROM segment_changes WHERE ${forTenant} GROUP BY ALL)
SELECT segment, hour, entered, exited,
  sum(entered - exited) OVER (PARTITION BY segment ORDER BY hour ROWS UNBOUNDED PRECEDING) AS members
FROM h ORDER BY segment, hour`,
  },
]
