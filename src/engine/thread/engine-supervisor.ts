import type { Worker } from 'node:worker_threads'
import type { DeadLetter } from '../../ingest/dead-letters.ts'
import type { Logger } from '../../logger.ts'
import { RuleError } from '../../rules/index.ts'
import { EngineUnavailableError } from './engine-client.ts'
import type { EventAppend } from './messages.ts'
import type { EngineClient, EngineSnapshot, MemberPage, Profile, ProfilePage, ProfileQuery, SegmentInfo, SegmentInput, TenantRuleSet, TraitInfo } from './protocol.ts'

/** What the supervisor needs of one engine thread: EngineThreadClient, or a fake in unit tests. */
export interface EngineThread extends EngineClient {
  /** Resolves once the thread has restored its checkpoints and posted its first snapshot; rejects if it failed first. */
  ready(): Promise<void>
  onClock: ((partition: number, time: number) => void) | null
  onDeadLetters: ((letters: DeadLetter[]) => void) | null
  onAppendEvents: ((append: EventAppend) => Promise<unknown>) | null
  /** Called once when the thread is gone without having been closed. */
  onExit: ((err: Error, code: number) => void) | null
  /** Ends a thread that has not started serving, without the wait of a stop (see EngineThreadClient). */
  abort(): Promise<void>
  readonly worker?: Worker
}

export interface RestartPolicy {
  /** Pause before the first restart after a healthy run. */
  firstDelayMs: number
  /** The pause doubles after each restart that does not stay up, up to this. */
  maxDelayMs: number
  /** A thread that was ready this long before it died was healthy: the pause starts again from firstDelayMs. */
  healthyAfterMs: number
}

/**
 * 1 s doubling to 30 s, as a failed partition's restart (engine-runner.ts). A thread that served for
 * a minute before dying gets the short pause again; one that keeps dying at startup (a store that
 * cannot be opened) is retried every 30 s at most, not in a hot loop that floods the log.
 */
export const DEFAULT_RESTART_POLICY: RestartPolicy = { firstDelayMs: 1_000, maxDelayMs: 30_000, healthyAfterMs: 60_000 }

export interface SupervisorHooks {
  /** Appends the engine's clock records: the main thread is the events log's writer. */
  onClock?: (partition: number, time: number) => void
  /** Appends the dead letters of the engine's poison records. */
  onDeadLetters?: (letters: DeadLetter[]) => void
  /** Appends the engine's identity records to the events log; the engine waits for it before a checkpoint. */
  onAppendEvents?: (append: EventAppend) => Promise<unknown>
  /** Called as each new thread is started after a failure (the restart counter). */
  onRestart?: () => void
}

/** Why the engine is down, since when, and what happens next. */
interface Outage {
  reason: Error
  since: number
  /** When the next thread starts; null while it is starting. */
  restartAt: number | null
  /** The last snapshot of the last thread that ran: /metrics keeps its numbers while none runs. */
  held: EngineSnapshot
}

/**
 * The server's one EngineClient in `serve`: routes, streams, metrics, readiness and the clock-record
 * relay hold this object, and it routes each call to the current engine thread. When that thread
 * exits or crashes unexpectedly (not during close), the supervisor starts a new one after a backoff;
 * the new thread restores the checkpoints and replays the log past them, so nothing is lost. While
 * no thread is ready, reads fail at once (503 engine_unavailable) and the snapshot says not ready.
 */
export class EngineSupervisor implements EngineClient {
  private current: EngineThread
  private outage: Outage | null = null
  private delayMs: number
  private readySince: number | null = null
  private timer: NodeJS.Timeout | null = null
  private closing: Promise<void> | null = null
  private restartCount = 0

  constructor(
    private readonly spawn: () => EngineThread,
    private readonly logger: Logger,
    private readonly hooks: SupervisorHooks = {},
    private readonly policy: RestartPolicy = DEFAULT_RESTART_POLICY,
  ) {
    this.delayMs = policy.firstDelayMs
    this.current = this.launch()
  }

  /**
   * Resolves once the first thread is ready, or once it has failed for a reason a restart may cure
   * (a full disk, a store gone away): the server then serves degraded and the engine comes back by
   * itself. A rule error in the segments file would fail every restart the same way: that rejects,
   * so `serve` stops with the error as it always did.
   */
  async start(): Promise<void> {
    try {
      await this.current.ready()
    } catch (err) {
      if (err instanceof RuleError) {
        await this.close()
        throw err
      }
      this.logger.error({ err }, 'engine thread failed to start; serving without it until a restart succeeds')
    }
  }

  /** Restarts so far (after failures; the first start is not one). */
  get restarts(): number {
    return this.restartCount
  }

  /** The current thread's Worker: fault tests terminate it to see the API degrade and recover. */
  get worker(): Worker | undefined {
    return this.current.worker
  }

  snapshot(): EngineSnapshot {
    const o = this.outage
    if (o === null) return this.current.snapshot()
    return { ...o.held, ready: false, error: this.describe(o) }
  }

  profile(tenant: string, userId: string): Promise<Profile | null> {
    return this.route((t) => t.profile(tenant, userId))
  }

  profileJson(tenant: string, userId: string): Promise<string | null> {
    return this.route((t) => t.profileJson(tenant, userId))
  }

  searchProfiles(query: ProfileQuery): Promise<ProfilePage> {
    return this.route((t) => t.searchProfiles(query))
  }

  segments(tenant: string): Promise<SegmentInfo[]> {
    return this.route((t) => t.segments(tenant))
  }

  members(tenant: string, segment: string, limit: number, cursor?: string): Promise<MemberPage | null> {
    return this.route((t) => t.members(tenant, segment, limit, cursor))
  }

  traits(): Promise<TraitInfo[]> {
    return this.route((t) => t.traits())
  }

  putSegment(name: string, input: SegmentInput, tenant: string, by: string): Promise<SegmentInfo> {
    return this.route((t) => t.putSegment(name, input, tenant, by))
  }

  deleteSegment(name: string, tenant: string, by: string): Promise<boolean> {
    return this.route((t) => t.deleteSegment(name, tenant, by))
  }

  tenantRules(tenant: string): Promise<TenantRuleSet> {
    return this.route((t) => t.tenantRules(tenant))
  }

  replaceTenantRules(tenant: string, yaml: string, by: string): Promise<TenantRuleSet> {
    return this.route((t) => t.replaceTenantRules(tenant, yaml, by))
  }

  ruleHistory(tenant: string, limit: number): Promise<TenantRuleSet[]> {
    return this.route((t) => t.ruleHistory(tenant, limit))
  }

  /**
   * Stops the current thread (it writes its last checkpoint) and any restart still to come. A
   * replacement still starting is ended at once: shutdown need not wait for its restore.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.timer !== null) clearTimeout(this.timer)
      this.timer = null
      await (this.outage === null ? this.current.close() : this.current.abort())
    })()
    return this.closing
  }

  private route<T>(call: (thread: EngineThread) => Promise<T>): Promise<T> {
    if (this.closing !== null) return Promise.reject(new EngineUnavailableError('the engine is stopping'))
    // A thread still restoring would queue the request until it is ready: refuse at once instead.
    if (this.outage !== null) return Promise.reject(new EngineUnavailableError(this.describe(this.outage)))
    return call(this.current)
  }

  private describe(o: Outage): string {
    const next = o.restartAt === null ? 'a new engine thread is starting' : `a new engine thread starts in ${Math.max(0, Math.ceil((o.restartAt - Date.now()) / 1000))} s`
    return `the engine thread is not running (${o.reason.message}); ${next}`
  }

  private launch(): EngineThread {
    const thread = this.spawn()
    thread.onClock = (partition, time) => this.hooks.onClock?.(partition, time)
    thread.onDeadLetters = (letters) => this.hooks.onDeadLetters?.(letters)
    thread.onAppendEvents = (append) => this.hooks.onAppendEvents?.(append) ?? Promise.reject(new Error('no writer for the events log'))
    thread.onExit = (err, code) => {
      if (thread === this.current) this.onExit(err, code)
    }
    thread.ready().then(
      () => {
        if (thread !== this.current || this.closing !== null) return
        this.readySince = Date.now()
        const o = this.outage
        this.outage = null
        if (o !== null) this.logger.info({ restarts: this.restartCount, downMs: Date.now() - o.since }, 'engine thread restarted: reads are served again')
      },
      // Its exit (onExit) schedules the next attempt; start() reports a first failure.
      () => undefined,
    )
    return thread
  }

  private onExit(err: Error, code: number): void {
    if (this.closing !== null) return
    const now = Date.now()
    if (this.readySince !== null && now - this.readySince >= this.policy.healthyAfterMs) this.delayMs = this.policy.firstDelayMs
    const delay = this.delayMs
    this.delayMs = Math.min(this.policy.maxDelayMs, delay * 2)
    this.readySince = null
    // A replacement that died while starting never had numbers of its own: keep the last real ones.
    const held = this.outage?.held ?? this.current.snapshot()
    this.outage = { reason: err, since: this.outage?.since ?? now, restartAt: now + delay, held }
    this.logger.error({ err, code, restarts: this.restartCount, retryInMs: delay }, 'engine thread stopped; starting a new one after a pause')
    this.timer = setTimeout(() => this.restart(), delay)
    // The HTTP server keeps the process alive; a pending restart alone must not.
    this.timer.unref()
  }

  private restart(): void {
    this.timer = null
    if (this.closing !== null || this.outage === null) return
    this.restartCount++
    this.outage.restartAt = null
    this.logger.warn({ restart: this.restartCount, reason: this.outage.reason.message }, 'starting a new engine thread')
    this.hooks.onRestart?.()
    try {
      this.current = this.launch()
    } catch (err) {
      // The thread could not even be created (its script, resources): try again later, like a crash.
      this.onExit(err as Error, -1)
    }
  }
}
