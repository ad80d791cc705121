import cliProgress from 'cli-progress'

export interface Progress {
  /** `extra.count`: how many of `counted` (events) so far, when the bar shows their rate. */
  update(done: number, extra?: Record<string, string | number>): void
  stop(): void
}

/**
 * A progress bar on stderr with a live rate; silent when stderr is not a terminal (CI, pipes).
 * `counted` names a second count (events) shown with its own rate beside the bytes'.
 */
export function progressBar(total: number, unit: string, label = '', counted?: string): Progress {
  if (!process.stderr.isTTY) return { update: () => undefined, stop: () => undefined }
  const started = Date.now()
  const rates = counted === undefined ? '' : ` | {count} ${counted} | {countRate} ${counted}/s`
  const bar = new cliProgress.SingleBar(
    {
      format: `${label}{bar} {percentage}% | {value}/{total} ${unit} | {rate} ${unit}/s${rates} | {info}`,
      stream: process.stderr,
      hideCursor: true,
    },
    cliProgress.Presets.shades_classic,
  )
  bar.start(total, 0, { rate: 0, info: '', count: 0, countRate: 0 })
  return {
    update(done, extra = {}) {
      const secs = Math.max((Date.now() - started) / 1000, 0.001)
      const count = typeof extra.count === 'number' ? extra.count : 0
      bar.update(done, { rate: Math.round(done / secs), info: '', ...extra, countRate: Math.round(count / secs) })
    },
    stop: () => bar.stop(),
  }
}
