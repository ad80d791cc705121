import type { BackfillStatus } from '../thread/protocol.ts'
import type { BackfillProgress } from './backfill-job.ts'

/** The partitions' progress on a tenant's latest backfill, summed for the API; null when there is none. */
export function backfillStatus(progress: ReadonlyArray<BackfillProgress | null>, now = Date.now()): BackfillStatus | null {
  const all = progress.filter((p): p is BackfillProgress => p !== null)
  const version = Math.max(0, ...all.map((p) => p.version))
  const latest = all.filter((p) => p.version === version)
  if (latest.length === 0) return null
  const done = latest.filter((p) => p.finishedAt !== null)
  const start = Math.min(...latest.map((p) => p.startedAt))
  const end = done.length === latest.length ? Math.max(...done.map((p) => p.finishedAt!)) : now
  return {
    version,
    state: done.length === latest.length ? 'done' : 'running',
    partitions: { done: done.length, total: latest.length },
    rows: { warehouse: sum(latest.map((p) => p.rows.warehouse)), log: sum(latest.map((p) => p.rows.log)) },
    users: sum(latest.map((p) => p.users)),
    seconds: (end - start) / 1000,
    errors: latest.flatMap((p) => (p.error === null ? [] : [`partition ${p.partition}: ${p.error}`])),
  }
}

function sum(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0)
}
