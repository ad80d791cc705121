import { api, messageOf } from '../api.ts'
import { lineChart, type LineChart } from '../charts.ts'
import { fill, h, table, type Cleanup } from '../dom.ts'
import { num } from '../format.ts'
import { liveFeed, type LiveState } from '../live-feed.ts'
import type { SegmentInfo } from '../types.ts'
import { changeFeed } from './change-feed.ts'
import { ruleEditor } from './rule-editor.ts'

/** Segments: live sizes and their history, the rules, entries and exits, and the rule editor. */
export function segmentsPage(root: HTMLElement): Cleanup {
  const listEl = h('div', { 'data-testid': 'segment-list' }, 'loading…')
  const chartEl = h('div', { class: 'chart', 'data-testid': 'sizes-chart' })
  const feed = changeFeed()
  let segments: SegmentInfo[] = []
  let chart: LineChart | null = null
  let chartNames = ''

  const editor = ruleEditor((saved) => {
    segments = segments.some((s) => s.name === saved.name) ? segments.map((s) => (s.name === saved.name ? saved : s)) : [...segments, saved]
    renderList(liveFeed.state)
  })

  fill(
    root,
    h('div', { class: 'two wide-left' }, h('section', { class: 'card' }, h('h3', null, 'Segments'), listEl), editor.el),
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
      unsubscribe = liveFeed.subscribe((live) => {
        updateSizes(live)
        renderChart(live)
      })
    })
    .catch((err: unknown) => fill(listEl, h('p', { class: 'error' }, messageOf(err))))

  return () => {
    unsubscribe()
    chart?.destroy()
    feed.destroy()
    editor.destroy()
  }
}
