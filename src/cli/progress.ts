import cliProgress from 'cli-progress'

export interface Progress {
  update(done: number, extra?: Record<string, string | number>): void
  stop(): void
}

/** A progress bar on stderr with a live rate; silent when stderr is not a terminal (CI, pipes). */
export function progressBar(total: number, unit: string, label = ''): Progress {
  if (!process.stderr.isTTY) return { update: () => undefined, stop: () => undefined }
  const started = Date.now()
  const bar = new cliProgress.SingleBar(
    {
      format: `${label}{bar} {percentage}% | {value}/{total} ${unit} | {rate} ${unit}/s | {info}`,
      stream: process.stderr,
      hideCursor: true,
    },
    cliProgress.Presets.shades_classic,
  )
  bar.start(total, 0, { rate: 0, info: '' })
  return {
    update(done, extra = {}) {
      const secs = Math.max((Date.now() - started) / 1000, 0.001)
      bar.update(done, { rate: Math.round(done / secs), info: '', ...extra })
    },
    stop: () => bar.stop(),
  }
}
