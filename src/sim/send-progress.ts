import cliProgress from 'cli-progress'
import type { SendStats } from './http/stats.ts'

export interface SendProgress {
  update(stats: SendStats): void
  stop(): void
}

/** The rate over the last few seconds, not since the start: a live run should show what it does now. */
const WINDOW_MS = 5_000

/**
 * A progress bar on stderr for a sending simulator: events stored, events/s, and what the server
 * refused. With no total (a run until Ctrl-C) it is a counter. Silent when stderr is not a terminal.
 */
export function sendProgress(label: string, total: number | null): SendProgress {
  if (!process.stderr.isTTY) return { update: () => undefined, stop: () => undefined }
  const counts = total === null ? '{value} events' : '{bar} {percentage}% | {value}/{total} events'
  const bar = new cliProgress.SingleBar({ format: `${label} ${counts} | {rate} events/s | {info}`, stream: process.stderr, hideCursor: true, fps: 5 }, cliProgress.Presets.shades_classic)
  bar.start(total ?? 0, 0, { rate: 0, info: '' })
  const samples: Array<[number, number]> = [[performance.now(), 0]]
  return {
    update(s) {
      const now = performance.now()
      samples.push([now, s.sent])
      while (samples.length > 2 && samples[0]![0] < now - WINDOW_MS) samples.shift()
      const [t0, n0] = samples[0]!
      const rate = now > t0 ? Math.round(((s.sent - n0) * 1000) / (now - t0)) : 0
      const info = [`stored ${s.accepted}`, s.rejected ? `rejected ${s.rejected}` : '', s.refused ? `refused ${s.refused}` : '', s.retries ? `retries ${s.retries}` : ''].filter(Boolean).join(', ')
      if (total === null) bar.setTotal(s.sent)
      bar.update(s.sent, { rate, info })
    },
    stop: () => bar.stop(),
  }
}
