import { lineChart } from '../charts.ts'
import { fill, h, type Cleanup } from '../dom.ts'
import { bytes, clock, num } from '../format.ts'
import { liveFeed, type LiveState } from '../live-feed.ts'
import type { LiveSample } from '../types.ts'

function card(title: string, testid: string, note: string): { el: HTMLElement; value: HTMLElement; sub: HTMLElement } {
  const value = h('div', { class: 'big', 'data-testid': testid }, '–')
  const sub = h('div', { class: 'sub' }, note)
  return { el: h('section', { class: 'card stat' }, h('h3', null, title), value, sub), value, sub }
}

/** Live: ingest and processing rates, rejections, lag, as the server pushes them. */
export function livePage(root: HTMLElement): Cleanup {
  const events = card('Events / s', 'events-per-sec', 'accepted into the log')
  const rejected = card('Rejected / s', 'rejected-per-sec', 'sent to dead letters')
  const processed = card('Processed / s', 'processed-per-sec', 'by the engine (server)')
  const lag = card('Lag', 'lag-total', 'events not yet processed')
  const received = card('Received', 'bytes-per-sec', 'request bytes / s (server)')
  const rateChart = h('div', { class: 'chart', 'data-testid': 'rate-chart' })
  const lagChart = h('div', { class: 'chart', 'data-testid': 'lag-chart' })
  const partitions = h('div', { class: 'partitions', 'data-testid': 'lag-partitions' })
  fill(
    root,
    h('div', { class: 'stats' }, events.el, rejected.el, processed.el, lag.el, received.el),
    h('section', { class: 'card' }, h('h3', null, 'Rates'), rateChart),
    h('div', { class: 'two' }, h('section', { class: 'card' }, h('h3', null, 'Lag (all partitions)'), lagChart), h('section', { class: 'card' }, h('h3', null, 'Lag per partition'), partitions)),
  )
  const rates = lineChart(rateChart, ['accepted', 'processed', 'rejected'], { yLabel: 'events / s', dashed: [1] })
  const lags = lineChart(lagChart, ['lag'], { height: 180, yLabel: 'events' })

  const render = (s: LiveState) => {
    const last: LiveSample | undefined = s.samples.at(-1)
    if (last) {
      const lagTotal = last.lag.reduce((a, b) => a + b, 0)
      events.value.textContent = num(last.events_per_sec)
      events.sub.textContent = `accepted into the log · ${num(last.events_total)} since start`
      rejected.value.textContent = num(last.rejected_per_sec)
      rejected.sub.textContent = `sent to dead letters · ${num(last.rejected_total)} since start`
      rejected.el.classList.toggle('warn', last.rejected_per_sec > 0)
      processed.value.textContent = num(last.processed_per_sec)
      lag.value.textContent = num(lagTotal)
      lag.el.classList.toggle('warn', lagTotal > 10_000)
      received.value.textContent = bytes(last.bytes_per_sec)
      received.sub.textContent = `request bytes / s (server) · ${num(last.duplicates_per_sec)} duplicates / s`
      const max = Math.max(1, ...last.lag)
      fill(
        partitions,
        ...last.lag.map((n, p) =>
          h('div', { class: 'bar-row' }, h('span', { class: 'label' }, `p${p}`), h('span', { class: 'bar', style: `width:${(100 * n) / max}%` }), h('span', { class: 'num' }, num(n))),
        ),
      )
    }
    const x = s.samples.map((p) => p.t / 1000)
    rates.setData(x, [s.samples.map((p) => p.events_per_sec), s.samples.map((p) => p.processed_per_sec), s.samples.map((p) => p.rejected_per_sec)])
    lags.setData(x, [s.samples.map((p) => p.lag.reduce((a, b) => a + b, 0))])
  }
  const unsubscribe = liveFeed.subscribe(render)
  return () => {
    unsubscribe()
    rates.destroy()
    lags.destroy()
  }
}

export function statusText(s: LiveState): string {
  const last = s.samples.at(-1)
  if (s.state === 'failed') return `live stream refused: ${s.error?.message ?? 'error'}`
  if (s.state === 'retrying') return 'live stream lost; reconnecting…'
  if (s.state === 'connecting') return 'connecting…'
  return last ? `live · updated ${clock(last.t)}` : 'live · waiting for the first sample'
}
