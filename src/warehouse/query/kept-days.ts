import { firstKeptDay } from '../retention.ts'
import type { Inventory } from './views.ts'

/*
 * What the views read when the warehouse has a partition expiration (WarehouseOptions.retentionDays):
 * the inventory without the files of expired days (src/warehouse/retention.ts). The sink removes
 * those directories only when its maintenance runs (at start, then hourly), so without this a day
 * would stay visible for up to an hour after it expired, or until the sink thread of a freshly
 * started server got to it.
 */

/** The last `dt=YYYY-MM-DD` directory of a path. */
const DT_DIR = /^.*[\\/]dt=(\d{4}-\d{2}-\d{2})[\\/]/

/** The day of a warehouse file from its `dt=` directory, or null for a file outside one. */
export function dayOfPath(path: string): string | null {
  return DT_DIR.exec(path)?.[1] ?? null
}

/** The files of days before `keptFrom` (YYYY-MM-DD) left out; a file in no `dt=` directory is kept. */
export function keptInventory(inv: Inventory, keptFrom: string): Inventory {
  const kept = (paths: readonly string[]): string[] =>
    paths.filter((p) => {
      const day = dayOfPath(p)
      return day === null || day >= keptFrom
    })
  const counts: Record<string, number> = {}
  const events: Record<string, string[]> = {}
  for (const [name, paths] of Object.entries(inv.files.events)) {
    const left = kept(paths)
    if (left.length === 0) continue
    events[name] = left
    counts[name] = left.length
  }
  const segmentChanges = kept(inv.files.segmentChanges)
  const notifications = kept(inv.files.notifications)
  return { events: counts, segmentChanges: segmentChanges.length, notifications: notifications.length, files: { events, segmentChanges, notifications } }
}

/** The first day the views show at `now`, or null when the warehouse keeps every day. */
export function viewsKeepFrom(now: number, retentionDays: number | null): string | null {
  return retentionDays === null ? null : firstKeptDay(now, retentionDays)
}
