import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { RuleError } from '../../src/rules/index.ts'
import { EngineUnavailableError } from '../../src/engine/thread/engine-client.ts'
import { EngineSupervisor, type EngineThread } from '../../src/engine/thread/engine-supervisor.ts'
import type { EngineSnapshot } from '../../src/engine/thread/protocol.ts'
import type { EventAppend } from '../../src/engine/thread/messages.ts'
import type { DeadLetter } from '../../src/ingest/dead-letters.ts'
import { createLogger } from '../../src/logger.ts'

/* The supervisor's restart policy, with fake threads and fake time: engine-restart.test.ts runs the real one over HTTP. */

class FakeThread implements EngineThread {
  onClock: ((partition: number, time: number) => void) | null = null
  onDeadLetters: ((letters: DeadLetter[]) => void) | null = null
  onAppendEvents: ((append: EventAppend) => Promise<unknown>) | null = null
  onExit: ((err: Error, code: number) => void) | null = null
  closed = false
  aborted = false
  private snap: EngineSnapshot = { ready: false, partitions: [], processed: 0, late: 0, lateDropped: 0, segmentChanges: 0, notifications: 0, segmentSizes: {}, users: 0, error: null }
  private settle!: { resolve: () => void; reject: (e: Error) => void }
  private readonly readyP = new Promise<void>((resolve, reject) => (this.settle = { resolve, reject }))

  constructor(private readonly id: number) {
    this.readyP.catch(() => undefined)
  }

  up(processed = 0): void {
    this.snap = { ...this.snap, ready: true, processed }
    this.settle.resolve()
  }

  /** The thread exits on its own: its start failed, or it crashed. */
  die(err: Error = new Error(`thread ${this.id} crashed`)): void {
    this.snap = { ...this.snap, ready: false, error: err.message }
    this.settle.reject(err)
    this.onExit?.(err, 1)
  }

  ready(): Promise<void> {
    return this.readyP
  }
  snapshot(): EngineSnapshot {
    return this.snap
  }
  profile(): Promise<null> {
    return Promise.resolve(null)
  }
  profileJson(): Promise<null> {
    return Promise.resolve(null)
  }
  searchProfiles(): Promise<{ profiles: []; next: null }> {
    return Promise.resolve({ profiles: [], next: null })
  }
  segments(): Promise<[]> {
    return Promise.resolve([])
  }
  members(): Promise<null> {
    return Promise.resolve(null)
  }
  traits(): Promise<[]> {
    return Promise.resolve([])
  }
  putSegment(): Promise<never> {
    return Promise.reject(new Error('not in this fake'))
  }
  deleteSegment(): Promise<never> {
    return Promise.reject(new Error('not in this fake'))
  }
  tenantRules(): Promise<never> {
    return Promise.reject(new Error('not in this fake'))
  }
  replaceTenantRules(): Promise<never> {
    return Promise.reject(new Error('not in this fake'))
  }
  ruleHistory(): Promise<never> {
    return Promise.reject(new Error('not in this fake'))
  }
  close(): Promise<void> {
    this.closed = true
    return Promise.resolve()
  }
  abort(): Promise<void> {
    this.aborted = true
    return Promise.resolve()
  }
}

const logger = createLogger('test', 'silent')

describe('EngineSupervisor', () => {
  let threads: FakeThread[]
  let restarts: number
  let clocks: Array<[number, number]>
  let sup: EngineSupervisor
  const last = () => threads[threads.length - 1]!

  beforeEach(() => {
    vi.useFakeTimers()
    threads = []
    restarts = 0
    clocks = []
    sup = new EngineSupervisor(
      () => {
        const t = new FakeThread(threads.length)
        threads.push(t)
        return t
      },
      logger,
      { onRestart: () => restarts++, onClock: (p, t) => clocks.push([p, t]) },
    )
  })
  afterEach(async () => {
    await sup.close()
    vi.useRealTimers()
  })

  it('restarts after 1 s, 2 s, 4 s … up to 30 s while each new thread dies starting, refusing reads at once meanwhile', async () => {
    last().up(42)
    await sup.start()
    await expect(sup.profile('t', 'u')).resolves.toBeNull()
    last().die()
    expect(sup.snapshot()).toMatchObject({ ready: false, processed: 42 })
    expect(sup.snapshot().error).toMatch(/thread 0 crashed.*starts in 1 s/)
    await expect(sup.profile('t', 'u')).rejects.toBeInstanceOf(EngineUnavailableError)
    for (const pause of [1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000]) {
      const before = threads.length
      await vi.advanceTimersByTimeAsync(pause - 1)
      expect(threads.length, `no restart before ${pause} ms`).toBe(before)
      await vi.advanceTimersByTimeAsync(1)
      expect(threads.length, `a restart after ${pause} ms`).toBe(before + 1)
      expect(sup.snapshot().error).toMatch(/a new engine thread is starting/)
      await expect(sup.segments('t')).rejects.toBeInstanceOf(EngineUnavailableError)
      last().die(new Error('ENOSPC: no space left on device'))
    }
    expect(restarts).toBe(7)
    // The numbers of the last thread that ran stay on show; the error is the latest one.
    expect(sup.snapshot()).toMatchObject({ ready: false, processed: 42 })
    expect(sup.snapshot().error).toContain('ENOSPC')
    await vi.advanceTimersByTimeAsync(30_000)
    last().up(50)
    await vi.advanceTimersByTimeAsync(0)
    expect(sup.snapshot()).toMatchObject({ ready: true, processed: 50, error: null })
    await expect(sup.segments('t')).resolves.toEqual([])
  })

  it('starts the pause again from 1 s once a thread ran for a minute', async () => {
    last().up()
    await sup.start()
    last().die()
    await vi.advanceTimersByTimeAsync(1_000)
    last().up()
    await vi.advanceTimersByTimeAsync(10_000)
    // Up for 10 s only: not healthy yet, so the pause doubles.
    last().die()
    await vi.advanceTimersByTimeAsync(1_999)
    expect(threads.length).toBe(2)
    await vi.advanceTimersByTimeAsync(1)
    expect(threads.length).toBe(3)
    last().up()
    await vi.advanceTimersByTimeAsync(60_000)
    last().die()
    await vi.advanceTimersByTimeAsync(1_000)
    expect(threads.length).toBe(4)
  })

  it("routes the new thread's clock records to the same hook", async () => {
    last().up()
    await sup.start()
    threads[0]!.onClock?.(1, 100)
    last().die()
    await vi.advanceTimersByTimeAsync(1_000)
    last().up()
    last().onClock?.(2, 200)
    expect(clocks).toEqual([
      [1, 100],
      [2, 200],
    ])
  })

  it('does not restart after close, whether a restart was pending or the exit came from the close', async () => {
    last().up()
    await sup.start()
    last().die()
    await sup.close()
    await vi.advanceTimersByTimeAsync(120_000)
    expect(threads.length).toBe(1)
    expect(restarts).toBe(0)
    expect(threads[0]!.aborted).toBe(true)
    await expect(sup.profile('t', 'u')).rejects.toBeInstanceOf(EngineUnavailableError)
  })

  it('ends a new thread that is still starting at once, rather than waiting for its start', async () => {
    last().up()
    await sup.start()
    last().die()
    await vi.advanceTimersByTimeAsync(1_000)
    expect(threads.length).toBe(2)
    await sup.close()
    expect(threads[1]).toMatchObject({ aborted: true, closed: false })
    await vi.advanceTimersByTimeAsync(60_000)
    expect(threads.length).toBe(2)
  })

  it('closes the running thread and ignores its exit', async () => {
    last().up()
    await sup.start()
    await sup.close()
    expect(threads[0]).toMatchObject({ closed: true, aborted: false })
    threads[0]!.die()
    await vi.advanceTimersByTimeAsync(60_000)
    expect(threads.length).toBe(1)
  })

  it('serves degraded when the first thread fails to start, and restarts it', async () => {
    const started = sup.start()
    last().die(new Error('ENOSPC: no space left on device'))
    await expect(started).resolves.toBeUndefined()
    expect(sup.snapshot()).toMatchObject({ ready: false })
    await vi.advanceTimersByTimeAsync(1_000)
    last().up()
    await vi.advanceTimersByTimeAsync(0)
    expect(sup.snapshot().ready).toBe(true)
  })

  it('rejects start on a rule error, and stops', async () => {
    const started = sup.start()
    last().die(new RuleError({ detail: 'expected a number', line: 3, column: 28, path: 'segments.broken.when' }))
    await expect(started).rejects.toBeInstanceOf(RuleError)
    expect(threads[0]!.closed || threads[0]!.aborted).toBe(true)
    await vi.advanceTimersByTimeAsync(60_000)
    expect(threads.length).toBe(1)
  })
})
