import type { EventLog, LogRecord } from '../../log/event-log.ts'
import type { Logger } from '../../logger.ts'
import type { InboxMessage, InboxTables } from '../../state/state-store.ts'
import { PLAYER_NOTIFICATIONS } from '../streams/kinds.ts'
import { readStreamRecord } from '../streams/records.ts'
import { MESSAGE_LIMITS } from '../../rules/index.ts'

export interface InboxOptions {
  /** Undelivered messages kept per player; beyond it the oldest go. Default 100. */
  maxPerPlayer: number
  /** Undelivered messages older than this (since the inbox took them in) go. Default 30 days. */
  ttlMs: number
  /** How long a read parks at a partition's end. Default 500 ms. */
  pollWaitMs: number
  /** Records per read and per transaction. Default 1,000. */
  batch: number
  /** How often expired messages are removed. Default 1 hour. */
  expireEveryMs: number
}

export const DEFAULT_INBOX_OPTIONS: InboxOptions = { maxPerPlayer: 100, ttlMs: 30 * 86_400_000, pollWaitMs: 500, batch: 1_000, expireEveryMs: 3_600_000 }

export interface InboxObserver {
  taken(count: number): void
  dropped(count: number): void
  skipped(): void
  /** Undelivered messages held, all tenants, after an expiry pass. */
  held(count: number): void
}

/**
 * Fills players' inboxes from the `player-notifications` log (docs/streams.md, "Player
 * notifications"). Every server runs one: each read is taken in with the partition's position in
 * one transaction of the state store (InboxTables.take), so when two servers read the same records
 * one stores them and the other finds the position moved and reads on from there. A record that is
 * not a usable player notification (on Kafka anyone can write to the topic) is skipped, counted.
 */
export class InboxFiller {
  private stopped = false
  private readonly loops: Array<Promise<void>> = []
  private expireTimer: NodeJS.Timeout | null = null
  /** Each partition's position as this server last stored or read it. */
  private readonly positions = new Map<number, number>()
  /** When each partition's log start was last looked at (retention). */
  private readonly startChecked = new Map<number, number>()

  constructor(
    private readonly log: EventLog,
    private readonly inbox: InboxTables,
    private readonly partitions: number,
    private readonly logger: Logger,
    private readonly options: InboxOptions = DEFAULT_INBOX_OPTIONS,
    private readonly observer: InboxObserver | null = null,
  ) {}

  start(): void {
    for (let p = 0; p < this.partitions; p++) this.loops.push(this.run(p))
    const expire = (): void => {
      if (this.stopped) return
      this.inbox
        .expire(Date.now() - this.options.ttlMs)
        .then(async (n) => {
          if (n > 0) this.logger.info({ expired: n }, 'inbox: expired undelivered messages removed')
          if (this.observer !== null) this.observer.held(await this.inbox.count())
        })
        .catch((err: unknown) => this.logger.warn({ err }, 'inbox: expiry failed; retried at the next one'))
        .finally(() => {
          if (!this.stopped) this.expireTimer = setTimeout(expire, this.options.expireEveryMs).unref()
        })
    }
    expire()
  }

  async stop(): Promise<void> {
    this.stopped = true
    if (this.expireTimer) clearTimeout(this.expireTimer)
    await Promise.all(this.loops)
  }

  /** One partition, for as long as the server runs; a failing read or store waits and tries again. */
  private async run(partition: number): Promise<void> {
    let pause = 250
    while (!this.stopped) {
      try {
        await this.step(partition)
        pause = 250
      } catch (err) {
        this.logger.warn({ err, partition }, 'inbox: taking in player notifications failed; retrying')
        await new Promise((r) => setTimeout(r, pause).unref())
        pause = Math.min(pause * 2, 30_000)
      }
    }
  }

  /** Reads from the stored position and takes what it read in; returns when the log has nothing new. */
  async step(partition: number): Promise<void> {
    // The stored position is read again only after another server moved it (a take that found it
    // elsewhere): idle, a partition costs one parked read per pollWaitMs, not a store query too.
    const from = this.positions.get(partition) ?? (await this.inbox.position(partition))
    this.positions.set(partition, from)
    const { topic } = PLAYER_NOTIFICATIONS
    const records = await this.log.read(topic, partition, from, { maxWaitMs: this.stopped ? 0 : this.options.pollWaitMs, maxRecords: this.options.batch })
    let to: number
    if (records.length === 0) {
      // Retention removed records no one took in: the position moves to the log's start (looked at once a minute).
      const now = Date.now()
      if (now - (this.startChecked.get(partition) ?? 0) < 60_000) return
      this.startChecked.set(partition, now)
      const { start } = await this.log.offsets(topic, partition)
      if (start <= from) return
      to = start
    } else to = records[records.length - 1]!.offset + 1
    const messages = this.messages(partition, records)
    const dropped = await this.inbox.take(partition, from, to, messages, this.options.maxPerPlayer)
    if (dropped === null) {
      // Another server took these records in first: read on from where it left off.
      this.positions.delete(partition)
      return
    }
    this.positions.set(partition, to)
    this.observer?.taken(messages.length)
    if (dropped > 0) this.observer?.dropped(dropped)
  }

  private messages(partition: number, records: readonly LogRecord[]): InboxMessage[] {
    const out: InboxMessage[] = []
    const now = Date.now()
    for (const record of records) {
      const r = readStreamRecord(PLAYER_NOTIFICATIONS, partition, record, { tenant: null, only: null })
      if (r === null) continue
      const w = 'wire' in r ? r.wire : null
      const problem = w === null ? ('skip' in r ? r.skip : 'unusable') : notificationProblem(w)
      if (w === null || problem !== null) {
        this.observer?.skipped()
        this.logger.warn({ partition, offset: record.offset, reason: problem }, 'inbox: skipped a record that is not a player notification')
        continue
      }
      const message = (w.message as string).length > MESSAGE_LIMITS.rendered ? `${(w.message as string).slice(0, MESSAGE_LIMITS.rendered - 1)}…` : (w.message as string)
      out.push({
        id: w.id as string,
        tenant: w.tenant as string,
        user_id: w.user_id as string,
        trigger: w.trigger as string,
        message,
        event: w.event as string,
        event_id: w.event_id as string,
        at: w.at as number,
        storedAt: now,
      })
    }
    return out
  }
}

/** Longest id-like field an inbox row takes (a hostile producer's record is skipped, not stored). */
const MAX_FIELD = 1_024

/** Why a record with the stream's fields (readStreamRecord checked tenant, user_id, trigger, at) is still not a player notification; null when it is one. */
function notificationProblem(w: Record<string, unknown>): string | null {
  for (const f of ['id', 'message', 'event', 'event_id'] as const) if (typeof w[f] !== 'string') return `field "${f}" is missing or not a string`
  for (const f of ['id', 'tenant', 'user_id', 'trigger', 'event', 'event_id'] as const) if ((w[f] as string).length > MAX_FIELD) return `field "${f}" is longer than ${MAX_FIELD} characters`
  return null
}
