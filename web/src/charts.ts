import uPlot from 'uplot'

/** Series colours, distinguishable on white and for most colour-blind readers (Okabe–Ito). */
export const COLORS = ['#0072b2', '#e69f00', '#009e73', '#d55e00', '#cc79a7', '#56b4e9', '#f0e442', '#000000']

export interface Chart {
  readonly el: HTMLElement
  destroy(): void
}

/**
 * Keeps a chart as wide as its container. uPlot draws at a fixed pixel size, so it is told the
 * new size whenever the layout changes.
 */
function fit(el: HTMLElement, plot: uPlot, height: number): () => void {
  const ro = new ResizeObserver(() => {
    const width = Math.max(200, el.clientWidth)
    if (width !== plot.width) plot.setSize({ width, height })
  })
  ro.observe(el)
  return () => ro.disconnect()
}

export interface LineChart extends Chart {
  /** x in epoch seconds; one array per series, null for a gap. */
  setData(x: number[], ys: Array<Array<number | null>>): void
}

/** Lines over time; `labels` names each series (their order is the order of `ys`). */
export function lineChart(el: HTMLElement, labels: string[], opts: { height?: number; yLabel?: string; dashed?: number[] } = {}): LineChart {
  const height = opts.height ?? 220
  const plot = new uPlot(
    {
      width: Math.max(200, el.clientWidth),
      height,
      series: [{}, ...labels.map((label, i) => ({ label, stroke: COLORS[i % COLORS.length]!, width: 2, spanGaps: false, ...(opts.dashed?.includes(i) ? { dash: [6, 4] } : {}) }))],
      axes: [{}, { label: opts.yLabel ?? '', size: 60 }],
      scales: { x: { time: true } },
      cursor: { drag: { x: false, y: false } },
    },
    [[], ...labels.map(() => [])],
    el,
  )
  const unfit = fit(el, plot, height)
  el.dataset.points = '0'
  return {
    el,
    setData(x, ys) {
      plot.setData([x, ...ys])
      el.dataset.points = String(x.length)
    },
    destroy() {
      unfit()
      plot.destroy()
    },
  }
}

/** One bar per label, for counts by category (reports, a profile's window metrics). */
export function barChart(el: HTMLElement, labels: string[], values: Array<number | null>, seriesLabel: string, opts: { height?: number } = {}): Chart {
  const height = opts.height ?? 240
  const bars = uPlot.paths.bars!({ size: [0.7, 80], align: 0 })
  const plot = new uPlot(
    {
      width: Math.max(200, el.clientWidth),
      height,
      series: [
        { label: 'category', value: (_u, v) => (v === null ? '' : (labels[Math.round(v)] ?? '')) },
        { label: seriesLabel, stroke: COLORS[0]!, fill: `${COLORS[0]!}b0`, paths: bars, points: { show: false } },
      ],
      scales: { x: { time: false, range: (_u, min, max) => [min - 0.5, max + 0.5] }, y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.05 : 1] } },
      axes: [
        {
          splits: () => labels.map((_, i) => i),
          values: (_u, splits) => splits.map((i) => truncate(labels[i] ?? '', 24)),
          rotate: labels.length > 8 ? -40 : 0,
          size: labels.length > 8 ? 80 : 40,
          gap: 4,
        } as uPlot.Axis,
        { size: 60 },
      ],
      legend: { show: true },
      cursor: { drag: { x: false, y: false } },
    },
    [labels.map((_, i) => i), values],
    el,
  )
  const unfit = fit(el, plot, height)
  el.dataset.points = String(values.filter((v) => v !== null).length)
  return {
    el,
    destroy() {
      unfit()
      plot.destroy()
    },
  }
}

function truncate(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s
}

/**
 * Calibration by decile: for each tenth of the held-out rows by score, the mean score and what
 * happened (the observed rate or mean value), model and baseline, over the decile number. A
 * calibrated model's two lines lie on each other.
 */
export function decileChart(el: HTMLElement, lines: Array<{ label: string; values: Array<number | null> }>, opts: { height?: number; yLabel?: string } = {}): Chart {
  const height = opts.height ?? 220
  const n = Math.max(0, ...lines.map((l) => l.values.length))
  const plot = new uPlot(
    {
      width: Math.max(200, el.clientWidth),
      height,
      series: [{ label: 'decile' }, ...lines.map((l, i) => ({ label: l.label, stroke: COLORS[i % COLORS.length]!, width: 2, ...(i % 2 === 1 ? { dash: [6, 4] } : {}) }))],
      scales: { x: { time: false } },
      axes: [{ label: 'decile of the score', splits: () => Array.from({ length: n }, (_, i) => i + 1) } as uPlot.Axis, { label: opts.yLabel ?? '', size: 60 }],
      cursor: { drag: { x: false, y: false } },
    },
    [Array.from({ length: n }, (_, i) => i + 1), ...lines.map((l) => l.values)],
    el,
  )
  const unfit = fit(el, plot, height)
  el.dataset.points = String(n)
  return {
    el,
    destroy() {
      unfit()
      plot.destroy()
    },
  }
}
