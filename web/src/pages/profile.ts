import { api, ApiError, enc, messageOf } from '../api.ts'
import { barChart, type Chart } from '../charts.ts'
import { fill, h, table, type Cleanup } from '../dom.ts'
import { ago, num, short, time } from '../format.ts'
import type { Profile, RecentEvents } from '../types.ts'
// traits.ts imports only errors.ts: nothing of Node reaches the browser bundle.
import { KNOWN_TRAITS } from '../../../src/rules/traits.ts'

const BUILTIN = new Set<string>(KNOWN_TRAITS)

/** A profile is read again this often while it is on screen (one small request, not a stream). */
const REFRESH_MS = 3_000

/** One user: traits, segments with since-when, window metrics as a chart, counts, recent events. */
export function profilePage(root: HTMLElement, userId: string): Cleanup {
  const head = h('h2', null, 'User ', h('code', null, userId))
  const body = h('div', { 'data-testid': 'profile' }, 'loading…')
  fill(root, h('p', null, h('a', { href: '#/profiles' }, '← profiles')), head, body)
  let chart: Chart | null = null
  let timer: ReturnType<typeof setTimeout> | null = null
  let stopped = false
  let shown = ''

  const render = (p: Profile, events: RecentEvents | null) => {
    chart?.destroy()
    chart = null
    const t = p.traits
    const traits = table(
      ['trait', 'value'],
      [
        ['first_seen', `${time(t.first_seen)} (${ago(t.first_seen)})`],
        ['last_seen', `${time(t.last_seen)} (${ago(t.last_seen)})`],
        ['is_new', String(t.is_new)],
        ['event_count', t.event_count],
        ['total_purchases', t.total_purchases],
        ['country', t.country ?? '–'],
        ['language', t.language ?? '–'],
        ['user_agent', t.user_agent ?? '–'],
        ['referrer', t.referrer ?? '–'],
        ['host', t.host ?? '–'],
        // The rules file's declared traits follow the built-in ones, in the file's order.
        ...Object.entries(t)
          .filter(([name]) => !BUILTIN.has(name))
          .map(([name, v]): [string, string | number] => [name, v === null ? '–' : typeof v === 'boolean' ? String(v) : v]),
      ],
      { 'data-testid': 'traits' },
    )
    const segments =
      p.segments.length === 0
        ? h('p', { class: 'muted', 'data-testid': 'profile-segments' }, 'In no segment.')
        : h('ul', { class: 'segments', 'data-testid': 'profile-segments' }, ...p.segments.map((s) => h('li', null, h('strong', null, s.segment), ` since ${time(s.since)} (${ago(s.since)})`)))
    const metricNames = Object.keys(p.metrics)
    const chartEl = h('div', { class: 'chart', 'data-testid': 'metrics-chart' })
    const counts = Object.entries(p.counts).sort((a, b) => b[1] - a[1])
    // An id linked into a person shows the person's profile (docs/identity.md); the person's other ids link here too.
    const ids = h(
      'p',
      { class: 'muted', 'data-testid': 'profile-ids' },
      ...(p.user_id === userId ? [] : [h('code', null, userId), ' is linked into ', h('a', { href: `#/profiles/${enc(p.user_id)}` }, h('code', null, p.user_id)), '. ']),
      ...(p.ids.length === 0 ? ['No other ids linked.'] : ['Also known as ', ...p.ids.flatMap((id, i) => [i > 0 ? ', ' : '', h('a', { href: `#/profiles/${enc(id)}` }, h('code', null, id))]), '.']),
    )
    fill(
      body,
      ids,
      h(
        'div',
        { class: 'two' },
        h('section', { class: 'card' }, h('h3', null, 'Traits'), traits),
        h(
          'div',
          null,
          h('section', { class: 'card' }, h('h3', null, 'Segments'), segments),
          h(
            'section',
            { class: 'card' },
            h('h3', null, 'Events by name (lifetime)'),
            table(
              ['event', 'count'],
              counts.map(([e, n]) => [e, n]),
            ),
          ),
        ),
      ),
      h(
        'section',
        { class: 'card' },
        h('h3', null, 'Window metrics'),
        metricNames.length === 0 ? h('p', { class: 'muted' }, 'The current rules keep no metrics.') : chartEl,
        metricNames.length === 0
          ? null
          : table(
              ['metric', 'value'],
              metricNames.map((m) => [h('code', null, m), num(p.metrics[m])]),
            ),
      ),
      h('section', { class: 'card' }, h('h3', null, 'Recent events'), recent(events)),
    )
    if (metricNames.length > 0)
      chart = barChart(
        chartEl,
        metricNames,
        metricNames.map((m) => p.metrics[m] ?? null),
        'value',
        { height: 200 },
      )
  }

  const load = async () => {
    try {
      const [p, events] = await Promise.all([api<Profile>(`/v1/profiles/${enc(userId)}`), api<RecentEvents>(`/v1/dashboard/profiles/${enc(userId)}/events?limit=20`).catch(() => null)])
      if (stopped) return
      // Re-drawn only when something changed, so a quiet profile does not flicker.
      const json = JSON.stringify([p, events?.events])
      if (json !== shown) render(p, events)
      shown = json
    } catch (err) {
      if (stopped) return
      fill(
        body,
        h(
          'p',
          { class: 'error', 'data-testid': 'profile-error' },
          err instanceof ApiError && err.status === 404 ? `No profile for user "${userId}" (no event from this user has been processed yet).` : messageOf(err),
        ),
      )
    }
    if (!stopped) timer = setTimeout(() => void load(), REFRESH_MS)
  }
  void load()
  return () => {
    stopped = true
    if (timer !== null) clearTimeout(timer)
    chart?.destroy()
  }
}

function recent(r: RecentEvents | null): Node {
  if (r === null) return h('p', { class: 'muted' }, 'Recent events are not available.')
  if (r.events.length === 0) return h('p', { class: 'muted' }, r.complete ? 'None stored.' : `None among the latest events of partition ${r.partition}.`)
  return table(
    ['time', 'event', 'properties'],
    r.events.map((e) => [time(e.ts), e.event, h('code', null, short(e.properties))]),
    { 'data-testid': 'recent-events' },
  )
}
