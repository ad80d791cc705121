import { api, messageOf } from '../api.ts'
import { lineChart, type LineChart } from '../charts.ts'
import { fill, h, table, type Cleanup } from '../dom.ts'
import { num } from '../format.ts'
import { liveFeed, type LiveState } from '../live-feed.ts'
import type { BackfillStatus, SegmentInfo, TenantRuleSet } from '../types.ts'
import { changeFeed } from './change-feed.ts'
import { ruleEditor } from './rule-editor.ts'

/** Segments: live sizes and their history, the rules, entries and exits, and the rule editor. */
export function segmentsPage(root: HTMLElement): Cleanup {
  const listEl = h('div', { 'data-testid': 'segment-list' }, 'loading…')
  // The tenant's last fill of new segments from history (docs/tenancy.md), polled while it runs.
  const backfillEl = h('p', { class: 'muted', 'data-testid': 'backfill-status' })
  let backfillTimer: ReturnType<typeof setTimeout> | null = null
  const showBackfill = () => {
    void api<TenantRuleSet>('/v1/rules')
      .then((r) => {
        backfillEl.textContent = backfillText(r.backfill ?? null)
        if (r.backfill?.state === 'running') backfillTimer = setTimeout(showBackfill, 1_000)
      })
      .catch(() => undefined)
  }
  const chartEl = h('div', { class: 'chart', 'data-testid': 'sizes-chart' })
  const feed = changeFeed()
  let segments: SegmentInfo[] = []
  let chart: LineChart | null = null
  let chartNames = ''

  const editor = ruleEditor((saved) => {
    segments = segments.some((s) => s.name === saved.name) ? segments.map((s) => (s.name === saved.name ? saved : s)) : [...segments, saved]
    renderList(liveFeed.state)
    showBackfill()
  })

  fill(
    root,
    h('div', { class: 'two wide-left' }, h('section', { class: 'card' }, h('h3', null, 'Segments'), listEl, backfillEl), editor.el),
    h('section', { class: 'card' }, h('h3', null, 'Members over time'), chartEl),
    feed.el,
  )

  // The table is rebuilt only when the segments change; each sample only rewrites the sizes, so a
  // click on a row is never lost to a re-render.
  const sizeCells = new Map<string, HTMLElement>()
  const updateSizes = (live: LiveState) => {
    const last = live.samples.at(-1)
    for (const s of segments) {
      const cell = sizeCells.get(s.name)
      if (cell) cell.textContent = num(last?.segments[s.name] ?? s.size)
    }
  }
  const renderList = (live: LiveState) => {
    sizeCells.clear()
    if (segments.length === 0) {
      fill(listEl, h('p', { class: 'muted' }, 'No segments yet: write one in the editor.'))
      return
    }
    fill(
      listEl,
      table(
        ['segment', 'members', 'rule', 'keep'],
        segments.map((s) => {
          const size = h('span', { 'data-testid': `size-${s.name}` })
          sizeCells.set(s.name, size)
          return [
            h('button', { class: 'link', type: 'button', 'data-testid': 'segment-row', onclick: () => editor.load(s) }, s.name),
            size,
            h('code', { title: s.description ?? '' }, s.when),
            s.keep ?? '',
          ]
        }),
      ),
    )
    updateSizes(live)
  }

  const renderChart = (live: LiveState) => {
    // The names come from the samples (the server's current rules), so a segment saved here appears with its first sample.
    const names = [...new Set(live.samples.flatMap((p) => Object.keys(p.segments)))].sort()
    if (names.join('\n') !== chartNames) {
      chart?.destroy()
      chartEl.replaceChildren()
      chart = names.length > 0 ? lineChart(chartEl, names, { yLabel: 'members' }) : null
      chartNames = names.join('\n')
    }
    chart?.setData(
      live.samples.map((p) => p.t / 1000),
      names.map((n) => live.samples.map((p) => p.segments[n] ?? null)),
    )
  }

  let unsubscribe: () => void = () => undefined
  void api<{ segments: SegmentInfo[] }>('/v1/segments')
    .then((r) => {
      segments = r.segments
      renderList(liveFeed.state)
      showBackfill()
      unsubscribe = liveFeed.subscribe((live) => {
        updateSizes(live)
        renderChart(live)
      })
    })
    .catch((err: unknown) => fill(listEl, h('p', { class: 'error' }, messageOf(err))))

  return () => {
    if (backfillTimer !== null) clearTimeout(backfillTimer)
    unsubscribe()
    chart?.destroy()
    feed.destroy()
    editor.destroy()
  }
}

/** One line on the last backfill: empty when none ran on this server. */
function backfillText(b: BackfillStatus | null): string {
  if (b === null) return ''
  const rows = `${num(b.rows.warehouse)} rows from the warehouse, ${num(b.rows.log)} from the log`
  const where = `${b.partitions.done} of ${b.partitions.total} partitions`
  const errors = b.errors.length > 0 ? ` (${b.errors.join('; ')})` : ''
  return b.state === 'running'
    ? `Filling new segments from history (rules version ${b.version}): ${where}, ${rows} so far…${errors}`
    : `New segments of rules version ${b.version} filled from history in ${b.seconds.toFixed(1)} s: ${num(b.users)} users, ${rows}.${errors}`
}
