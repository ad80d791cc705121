import type { ApiError } from './api.ts'
import { openStream, type StreamState } from './sse.ts'
import type { LiveHello, LiveSample } from './types.ts'

export interface LiveState {
  samples: LiveSample[]
  partitions: number
  intervalMs: number
  state: StreamState
  error: ApiError | null
}

type Listener = (s: LiveState) => void

/** Samples kept in the page: the server's history (5 minutes) plus what arrives while the page is open, up to 15 minutes. */
const KEEP = 900

/**
 * One connection to GET /v1/dashboard/live for the whole page, however many views show its
 * numbers: the server pushes a sample a second, the page never polls for them.
 */
export class LiveFeed {
  private readonly listeners = new Set<Listener>()
  private readonly s: LiveState = { samples: [], partitions: 0, intervalMs: 1000, state: 'connecting', error: null }
  private stream: { close(): void } | null = null

  start(): void {
    this.stream ??= openStream('/v1/dashboard/live', {
      onEvent: (event, data) => {
        if (event === 'hello') {
          const hello = JSON.parse(data) as LiveHello
          this.s.partitions = hello.partitions
          this.s.intervalMs = hello.interval_ms
          // A reconnect brings the history again: it replaces what we had, it is the same samples.
          this.s.samples = hello.history.slice(-KEEP)
        } else if (event === 'sample') {
          this.s.samples.push(JSON.parse(data) as LiveSample)
          if (this.s.samples.length > KEEP) this.s.samples.splice(0, this.s.samples.length - KEEP)
        }
        this.emit()
      },
      onState: (state, error) => {
        this.s.state = state
        this.s.error = error ?? null
        this.emit()
      },
    })
  }

  stop(): void {
    this.stream?.close()
    this.stream = null
  }

  get state(): LiveState {
    return this.s
  }

  /** Calls `fn` now and on every change; returns the unsubscribe. */
  subscribe(fn: Listener): () => void {
    this.listeners.add(fn)
    fn(this.s)
    return () => this.listeners.delete(fn)
  }

  private emit(): void {
    for (const fn of this.listeners) fn(this.s)
  }
}

export const liveFeed = new LiveFeed()
