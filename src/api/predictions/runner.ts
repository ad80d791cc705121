import { RunBusyError, type RunKind, type RunRecord } from '../../predict/index.ts'
import { runInThread, type ThreadRun } from '../../predict/thread/run-thread-client.ts'
import type { RunThreadData } from '../../predict/thread/run-thread.ts'

/**
 * This server's prediction runs (docs/predictions.md, "Schedule"), each in a thread of its own: one
 * at a time here (the daily schedule and `POST /v1/predictions/runs` share it), and the run lock
 * against runs started elsewhere. `onRecord` hears every run that recorded its end.
 */
export class PredictionRunner {
  private current: ThreadRun | null = null

  constructor(
    private readonly data: Omit<RunThreadData, 'kind' | 'gate'>,
    private readonly onRecord: (r: RunRecord) => void,
  ) {}

  get running(): boolean {
    return this.current !== null
  }

  /** Starts a run; throws RunBusyError when this server's previous one is still going. */
  start(kind: RunKind): ThreadRun {
    if (this.current !== null) throw new RunBusyError('a run this server started')
    const run = runInThread({ ...this.data, kind })
    this.current = run
    const done = run.done.then(
      (r) => {
        this.onRecord(r)
        return r
      },
      (err: unknown) => {
        throw err
      },
    )
    void done
      .catch(() => undefined)
      .finally(() => {
        if (this.current === run) this.current = null
      })
    return { done, stop: () => run.stop() }
  }

  async stop(): Promise<void> {
    const run = this.current
    if (run === null) return
    await run.stop()
    await run.done.catch(() => undefined)
  }
}
