import { Worker } from 'node:worker_threads'
import type { DeadLetter } from '../../ingest/dead-letters.ts'
import type { Logger } from '../../logger.ts'
import { RuleError } from '../../rules/index.ts'
import { RulesConflictError, RulesRateLimitedError } from '../tenant-rule-change.ts'
import { engineThreadScript } from './bundle.ts'
import type { EngineAnswer, EngineRequest, EngineThreadData, EventAppend, FromEngine, SerializedError, ToEngine } from './messages.ts'
import type { EngineClient, EngineMethod, EngineQueryApi, EngineSnapshot, MemberPage, Profile, ProfilePage, ProfileQuery, SegmentInfo, SegmentInput, TenantRuleSet, TraitInfo } from './protocol.ts'

/**
 * The engine thread died, is being restarted, or did not answer in time: reads answer 503
 * engine_unavailable at once instead of waiting on a thread that will never reply.
 */
export class EngineUnavailableError extends Error {
  override readonly name = 'EngineUnavailableError'
}

/** How long a read waits for the engine thread. Default 10 s: a live engine answers in milliseconds. */
export const DEFAULT_CALL_TIMEOUT_MS = 10_000

const STARTING: EngineSnapshot = { ready: false, partitions: [], processed: 0, late: 0, lateDropped: 0, segmentChanges: 0, notifications: 0, segmentSizes: {}, users: 0, error: null }

/**
 * The main thread's handle on one engine thread: requests out, answers and snapshots back. One
 * client is one thread's life: once it exits, EngineSupervisor (engine-supervisor.ts) starts a new
 * thread behind a new client.
 */
export class EngineThreadClient implements EngineClient {
  /** Public so fault tests (and an operator's debugger) can terminate the thread and watch the API degrade. */
  readonly worker: Worker
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>()
  /** Set once the thread has exited or crashed: every later call fails at once. */
  private dead: Error | null = null
  /** Resolves once the thread has exited, whatever the cause. */
  private readonly exited: Promise<void>
  private hasExited = false
  private nextId = 1
  private latest: EngineSnapshot = STARTING
  private stopped: Promise<void> | null = null
  private readyWaiters: Array<{ resolve: () => void; reject: (e: Error) => void }> = []
  /** Appends the engine's clock records (the caller owns the events log). */
  onClock: ((partition: number, time: number) => void) | null = null
  /** Appends the dead letters of the engine's poison records (the caller owns the dead-letters log). */
  onDeadLetters: ((letters: DeadLetter[]) => void) | null = null
  /** Appends the engine's identity records to the events log (the caller owns it); the thread waits for the answer. */
  onAppendEvents: ((append: EventAppend) => Promise<unknown>) | null = null
  /**
   * Called once when the thread has exited without being asked to (crash, exit, failed start),
   * with the first error seen: the thread is gone by then, so a new one may open the same files.
   */
  onExit: ((err: Error, code: number) => void) | null = null

  constructor(
    data: EngineThreadData,
    private readonly logger: Logger,
    private readonly callTimeoutMs: number = DEFAULT_CALL_TIMEOUT_MS,
  ) {
    // A larger young generation, as for the main thread (see bin/tagstream.mjs).
    this.worker = new Worker(engineThreadScript(), { workerData: data, resourceLimits: { maxYoungGenerationSizeMb: 96 } })
    this.worker.on('message', (msg: FromEngine) => this.onMessage(msg))
    this.worker.on('error', (err) => {
      this.logger.error({ err }, 'engine thread crashed')
      this.fail(err)
    })
    this.exited = new Promise((resolve) => {
      this.worker.once('exit', (code) => {
        this.hasExited = true
        resolve()
        if (this.stopped !== null) return
        // The supervisor logs the exit with its restart plan; log it here only when nobody will.
        if (this.onExit === null) this.logger.error({ code }, 'engine thread exited')
        this.fail(new Error(`engine thread exited with code ${code}`))
        this.onExit?.(this.dead ?? new Error(`engine thread exited with code ${code}`), code)
      })
    })
  }

  /** Resolves once the engine has restored its checkpoints and posted its first snapshot. */
  ready(): Promise<void> {
    if (this.latest.ready) return Promise.resolve()
    if (this.latest.error) return Promise.reject(new Error(this.latest.error))
    return new Promise((resolve, reject) => this.readyWaiters.push({ resolve, reject }))
  }

  snapshot(): EngineSnapshot {
    return this.latest
  }

  profile(tenant: string, userId: string): Promise<Profile | null> {
    return this.call('profile', [tenant, userId])
  }

  profileJson(tenant: string, userId: string): Promise<string | null> {
    return this.call('profileJson', [tenant, userId])
  }

  searchProfiles(query: ProfileQuery): Promise<ProfilePage> {
    return this.call('searchProfiles', [query])
  }

  segments(tenant: string): Promise<SegmentInfo[]> {
    return this.call('segments', [tenant])
  }

  members(tenant: string, segment: string, limit: number, cursor?: string): Promise<MemberPage | null> {
    return this.call('members', [tenant, segment, limit, cursor])
  }

  traits(): Promise<TraitInfo[]> {
    return this.call('traits', [])
  }

  putSegment(name: string, input: SegmentInput, tenant: string, by: string): Promise<SegmentInfo> {
    return this.call('putSegment', [name, input, tenant, by])
  }

  deleteSegment(name: string, tenant: string, by: string): Promise<boolean> {
    return this.call('deleteSegment', [name, tenant, by])
  }

  tenantRules(tenant: string): Promise<TenantRuleSet> {
    return this.call('tenantRules', [tenant])
  }

  replaceTenantRules(tenant: string, yaml: string, by: string): Promise<TenantRuleSet> {
    return this.call('replaceTenantRules', [tenant, yaml, by])
  }

  ruleHistory(tenant: string, limit: number): Promise<TenantRuleSet[]> {
    return this.call('ruleHistory', [tenant, limit])
  }

  close(): Promise<void> {
    if (this.stopped) return this.stopped
    // A thread that already exited has nothing to stop (and will not emit 'exit' again).
    if (this.hasExited) return (this.stopped = Promise.resolve())
    // A failed thread that has not exited yet (its start failed) has nothing to save: end it.
    if (this.dead) return this.abort()
    this.stopped = new Promise<void>((resolve) => {
      void this.exited.then(resolve)
      this.worker.postMessage({ type: 'stop' } satisfies ToEngine)
      // A stuck engine must not hold the process: its checkpoint is already durable.
      setTimeout(() => void this.worker.terminate().then(() => resolve()), 15_000).unref()
    })
    return this.stopped
  }

  /**
   * Ends the thread without asking it to stop, for one that has not started serving: it has nothing
   * to save yet, and a stop would wait for its whole start (the thread reads messages only once
   * started). What it did meanwhile is redone from the checkpoints, as after a crash.
   */
  abort(): Promise<void> {
    if (this.stopped) return this.stopped
    if (this.hasExited) return (this.stopped = Promise.resolve())
    return (this.stopped = this.worker.terminate().then(() => this.exited))
  }

  /** Sends one query; the method name and its arguments are checked against EngineQueryApi at compile time. */
  private call<M extends EngineMethod>(method: M, args: Parameters<EngineQueryApi[M]>): Promise<EngineAnswer<M>> {
    if (this.dead) return Promise.reject(new EngineUnavailableError(`the engine thread is not running (${this.dead.message})`))
    if (this.stopped) return Promise.reject(new EngineUnavailableError('the engine is stopping'))
    const id = this.nextId++
    return new Promise<EngineAnswer<M>>((resolve, reject) => {
      // A thread stuck in a loop never answers: the caller gets a prompt refusal instead of a hang.
      const timer = setTimeout(() => {
        if (!this.pending.delete(id)) return
        this.logger.warn({ method, timeoutMs: this.callTimeoutMs }, 'engine thread did not answer in time')
        reject(new EngineUnavailableError(`the engine thread did not answer ${method} within ${this.callTimeoutMs} ms`))
      }, this.callTimeoutMs)
      timer.unref()
      // The thread answers request `id` with what `method` returns (engine-thread.ts routes it there).
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject, timer })
      this.worker.postMessage({ type: 'request', id, method, args } as EngineRequest satisfies ToEngine)
    })
  }

  private onMessage(msg: FromEngine): void {
    switch (msg.type) {
      case 'snapshot':
        this.latest = msg.snapshot
        if (msg.snapshot.ready) for (const w of this.readyWaiters.splice(0)) w.resolve()
        return
      case 'response': {
        const p = this.pending.get(msg.id)
        if (!p) return
        this.pending.delete(msg.id)
        clearTimeout(p.timer)
        if (msg.ok) p.resolve(msg.result)
        else p.reject(revive(msg.error))
        return
      }
      case 'fatal':
        this.fail(revive(msg.error))
        // A thread whose start (or stop) failed may still hold what it opened and never exit by
        // itself: ending it is what lets a new one start (onExit), or close() return at once.
        void this.worker.terminate()
        return
      case 'clock':
        this.onClock?.(msg.partition, msg.time)
        return
      case 'dead-letters':
        this.onDeadLetters?.(msg.letters)
        return
      case 'append-events': {
        const { id } = msg
        const appended = this.onAppendEvents?.(msg) ?? Promise.reject(new Error('no writer for the events log'))
        appended.then(
          () => this.worker.postMessage({ type: 'appended', id, error: null } satisfies ToEngine),
          (err: unknown) => this.worker.postMessage({ type: 'appended', id, error: err instanceof Error ? err.message : String(err) } satisfies ToEngine),
        )
        return
      }
      case 'stopped':
        return
    }
  }

  private fail(err: Error): void {
    this.dead ??= err
    this.latest = { ...this.latest, ready: false, error: err.message }
    for (const w of this.readyWaiters.splice(0)) w.reject(err)
    const unavailable = new EngineUnavailableError(`the engine thread stopped (${err.message})`)
    for (const p of this.pending.values()) {
      clearTimeout(p.timer)
      p.reject(unavailable)
    }
    this.pending.clear()
  }
}

function revive(e: SerializedError): Error {
  if (e.name === 'RuleError' && e.line !== undefined && e.column !== undefined) {
    const detail = e.message.replace(/^.*?line \d+, column \d+: /, '')
    return new RuleError({ detail, line: e.line, column: e.column, path: e.path, expected: e.expected })
  }
  if (e.name === 'RulesConflictError') return new RulesConflictError(e.message)
  if (e.name === 'RulesRateLimitedError') return new RulesRateLimitedError(e.message)
  const err = new Error(e.message)
  err.name = e.name
  return err
}
