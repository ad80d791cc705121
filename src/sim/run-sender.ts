import type { SendStats } from './http/stats.ts'
import { sendProgress } from './send-progress.ts'

export interface SenderRun {
  stats: SendStats
  seconds: number
  /** Stopped by Ctrl-C (SIGINT) or SIGTERM rather than by running out of events. */
  interrupted: boolean
}

/**
 * Runs a sender with a progress bar until it ends or the user presses Ctrl-C: the first signal
 * stops generating and lets requests in flight finish, so every count printed is an answer the
 * server gave.
 */
export async function runSender(label: string, total: number | null, send: (signal: AbortSignal, onProgress: (s: SendStats) => void) => Promise<SendStats>): Promise<SenderRun> {
  const abort = new AbortController()
  const stop = () => abort.abort()
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
  const bar = sendProgress(label, total)
  const started = performance.now()
  try {
    const stats = await send(abort.signal, (s) => bar.update(s))
    bar.update(stats)
    return { stats, seconds: (performance.now() - started) / 1000, interrupted: abort.signal.aborted }
  } finally {
    bar.stop()
    process.off('SIGINT', stop)
    process.off('SIGTERM', stop)
  }
}
