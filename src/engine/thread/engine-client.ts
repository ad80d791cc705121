import { Worker } from 'node:worker_threads'
import type { Logger } from '../../logger.ts'
import { RuleError } from '../rules/index.ts'
import { engineThreadScript } from './bundle.ts'
import type { EngineThreadData, FromEngine, SerializedError, ToEngine } from './messages.ts'
import type { EngineClient, EngineSnapshot, Profile, ProfilePage, ProfileQuery, SegmentInfo, SegmentInput } from './protocol.ts'

const STARTING: EngineSnapshot = { ready: false, partitions: [], processed: 0, late: 0, lateDropped: 0, segmentChanges: 0, notifications: 0, segmentSizes: {}, users: 0, error: null }

/** The main thread's handle on the engine thread: requests out, answers and snapshots back. */
export class EngineThreadClient implements EngineClient {
  private readonly worker: Worker
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>()
  private nextId = 1
  private latest: EngineSnapshot = STARTING
  private stopped: Promise<void> | null = null
  private readyWaiters: Array<{ resolve: () => void; reject: (e: Error) => void }> = []
  /** Appends the engine's clock records (the caller owns the events log). */
  onClock: ((partition: number, time: number) => void) | null = null

  constructor(
    data: EngineThreadData,
    private readonly logger: Logger,
  ) {
    // A larger young generation, as for the main thread (see bin/tagstream.mjs).
    this.worker = new Worker(engineThreadScript(), { workerData: data, resourceLimits: { maxYoungGenerationSizeMb: 96 } })
    this.worker.on('message', (msg: FromEngine) => this.onMessage(msg))
    this.worker.on('error', (err) => {
      this.logger.error({ err }, 'engine thread crashed')
      this.fail(err)
    })
    this.worker.on('exit', (code) => {
      if (this.stopped === null) this.fail(new Error(`engine thread exited with code ${code}`))
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
    return this.call('profile', [tenant, userId]) as Promise<Profile | null>
  }

  searchProfiles(query: ProfileQuery): Promise<ProfilePage> {
    return this.call('searchProfiles', [query]) as Promise<ProfilePage>
  }

  segments(tenant: string): Promise<SegmentInfo[]> {
    return this.call('segments', [tenant]) as Promise<SegmentInfo[]>
  }

  members(tenant: string, segment: string, limit: number, cursor?: string): Promise<{ members: Array<{ user_id: string; since: number }>; next: string | null } | null> {
    return this.call('members', [tenant, segment, limit, cursor]) as Promise<{ members: Array<{ user_id: string; since: number }>; next: string | null } | null>
  }

  putSegment(name: string, input: SegmentInput, tenant: string): Promise<SegmentInfo> {
    return this.call('putSegment', [name, input, tenant]) as Promise<SegmentInfo>
  }

  close(): Promise<void> {
    if (this.stopped) return this.stopped
    this.stopped = new Promise<void>((resolve) => {
      const done = () => resolve()
      this.worker.once('exit', done)
      this.worker.postMessage({ type: 'stop' } satisfies ToEngine)
      // A stuck engine must not hold the process: its checkpoint is already durable.
      setTimeout(() => void this.worker.terminate().then(done), 15_000).unref()
    })
    return this.stopped
  }

  private call(method: string, args: unknown[]): Promise<unknown> {
    if (this.stopped) return Promise.reject(new Error('engine is stopping'))
    const id = this.nextId++
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject })
      this.worker.postMessage({ type: 'request', id, method, args } satisfies ToEngine)
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
        if (msg.ok) p.resolve(msg.result)
        else p.reject(revive(msg.error))
        return
      }
      case 'fatal':
        this.fail(revive(msg.error))
        return
      case 'clock':
        this.onClock?.(msg.partition, msg.time)
        return
      case 'stopped':
        return
    }
  }

  private fail(err: Error): void {
    this.latest = { ...this.latest, ready: false, error: err.message }
    for (const w of this.readyWaiters.splice(0)) w.reject(err)
    for (const p of this.pending.values()) p.reject(err)
    this.pending.clear()
  }
}

function revive(e: SerializedError): Error {
  if (e.name === 'RuleError' && e.line !== undefined && e.column !== undefined) {
    const detail = e.message.replace(/^.*?line \d+, column \d+: /, '')
    return new RuleError({ detail, line: e.line, column: e.column, path: e.path, expected: e.expected })
  }
  const err = new Error(e.message)
  err.name = e.name
  return err
}
