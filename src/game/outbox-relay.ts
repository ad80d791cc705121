import type { TrackedEvent } from '../events/index.ts'
import { Deduper } from '../ingest/dedupe.ts'
import type { Logger } from '../logger.ts'
import type { OutboxEvent, PlayerStore } from '../players/player-store.ts'
import { appendActionEvents, type EventSink } from './events.ts'

/*
 * The other half of the game's outbox (docs/game.md, "Player and event together"). A game action
 * stores the player's change and its event in one transaction, then appends the event and drops the
 * row. When the process died in between, or the log refused the append, the row stays; this relay
 * appends it and drops it. Which rows were appended is read from the dedupe horizon, which a
 * restarted server rebuilds from the log (src/ingest/dedupe-restore.ts): an event that made it into
 * the log before a crash is dropped, not appended twice, as long as the restart comes within the
 * horizon (10 minutes by default); later than that it is appended again (at least once).
 */

export interface RelaySettings {
  /**
   * Only rows decided longer ago than this are taken. 0 for a store one process owns (embedded):
   * the horizon's in-flight claims already keep the relay off an action still being answered. A
   * store shared by several servers (Postgres) needs a margin for another process's action in flight.
   */
  graceMs: number
  /** How often the outbox is checked. */
  intervalMs: number
  /** Rows per store read. */
  batch: number
}

export const DEFAULT_RELAY: RelaySettings = { graceMs: 0, intervalMs: 1000, batch: 500 }
/** The grace for a shared (Postgres) store: longer than an append can take before it fails. */
export const SHARED_STORE_GRACE_MS = 30_000

export interface RelayRun {
  appended: number
  /** Rows dropped because their event was already in the log. */
  alreadyAppended: number
  /** Rows left for a later run: in flight elsewhere, or the log refused. */
  left: number
}

export class OutboxRelay {
  private timer: NodeJS.Timeout | null = null
  private running: Promise<unknown> = Promise.resolve()
  private failing = false
  private stopped = false

  constructor(
    private readonly store: PlayerStore,
    private readonly sink: EventSink,
    private readonly logger: Logger,
    private readonly settings: RelaySettings = DEFAULT_RELAY,
    private readonly onRun?: (run: RelayRun) => void,
  ) {}

  /** Runs now (rows a crash left) and then every intervalMs until stop(). */
  start(): void {
    const tick = () => {
      this.running = this.runOnce()
        .then((run) => {
          if (this.failing) this.logger.info(run, 'game outbox: the log takes events again')
          this.failing = false
          this.onRun?.(run)
        })
        .catch((err: unknown) => {
          if (!this.failing) this.logger.warn({ err }, 'game outbox: events could not be appended yet; retrying every interval')
          this.failing = true
        })
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(tick, this.settings.intervalMs).unref()
        })
    }
    tick()
  }

  async stop(): Promise<void> {
    this.stopped = true
    if (this.timer) clearTimeout(this.timer)
    await this.running
  }

  /** One pass over the outbox: appends what is not in the log yet and drops what is. */
  async runOnce(now: number = Date.now()): Promise<RelayRun> {
    const run: RelayRun = { appended: 0, alreadyAppended: 0, left: 0 }
    const { deduper } = this.sink
    for (;;) {
      const rows = await this.store.pendingOutbox(this.settings.batch, now - this.settings.graceMs)
      const done: OutboxEvent[] = []
      const todo: Array<{ row: OutboxEvent; event: TrackedEvent }> = []
      for (const row of rows) {
        const state = deduper.status(Deduper.key(row.tenant, row.id), Date.now())
        if (state === 'seen') done.push(row)
        else if (state === 'pending') run.left++
        else {
          const event = parseRow(row)
          if (event) todo.push({ row, event })
          else {
            // Only this module writes rows, so this is a bug or a damaged store: kept for a person to look at.
            this.logger.error({ tenant: row.tenant, id: row.id }, 'game outbox: a row that is not an event is left in place')
            run.left++
          }
        }
      }
      run.alreadyAppended += done.length
      if (todo.length > 0) {
        // Rejects when the log refuses: the rows stay for the next run.
        await appendActionEvents(
          this.sink,
          todo.map((t) => t.event),
        )
        for (const t of todo) done.push(t.row)
        run.appended += todo.length
      }
      await this.store.removeOutbox(done)
      // A full page may have more behind it; a page of rows in flight elsewhere would repeat forever.
      if (rows.length < this.settings.batch || done.length === 0) return run
    }
  }
}

function parseRow(row: OutboxEvent): TrackedEvent | null {
  try {
    const e = JSON.parse(row.event) as Partial<TrackedEvent> | null
    const ok =
      e !== null &&
      typeof e === 'object' &&
      typeof e.event === 'string' &&
      typeof e.user_id === 'string' &&
      e.event_id === row.id &&
      e.tenant === row.tenant &&
      typeof e.ts === 'number' &&
      typeof e.received_at === 'number' &&
      typeof e.properties === 'object' &&
      e.properties !== null
    return ok ? (e as TrackedEvent) : null
  } catch {
    return null
  }
}
