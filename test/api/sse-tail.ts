import { sseMessages, type SseMessage } from '../../src/api/streams/client.ts'

export interface StreamEvent {
  id: string
  event: string
  record: Record<string, unknown>
}

/** A frame reader over a fetch response: frames accumulate; every wait is bounded. */
export class Tail {
  readonly frames: SseMessage[] = []
  ended = false
  private wake: () => void = () => undefined

  constructor(
    readonly res: Response,
    private readonly ac: AbortController,
  ) {
    void this.run()
  }

  get events(): StreamEvent[] {
    return this.frames.filter((f) => f.data !== null).map((f) => ({ id: f.id!, event: f.event!, record: JSON.parse(f.data!) as Record<string, unknown> }))
  }

  get lastEventId(): string {
    return this.frames.at(-1)?.lastEventId ?? ''
  }

  async until(what: string, done: () => boolean, timeoutMs = 5_000): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while (!done()) {
      if (this.ended) throw new Error(`stream ended while waiting for ${what}`)
      const left = deadline - Date.now()
      if (left <= 0) throw new Error(`timed out waiting for ${what}; got ${this.frames.length} frames`)
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left)
        this.wake = () => {
          clearTimeout(t)
          resolve()
        }
      })
    }
  }

  untilEvents(n: number, timeoutMs?: number): Promise<void> {
    return this.until(`${n} events`, () => this.events.length >= n, timeoutMs)
  }

  close(): void {
    this.ac.abort()
  }

  private async run(): Promise<void> {
    try {
      for await (const m of sseMessages(this.res.body!)) {
        this.frames.push(m)
        this.wake()
      }
    } catch {
      // aborted
    } finally {
      this.ended = true
      this.wake()
    }
  }
}

/** Opens an SSE stream (200 expected) and waits for its opening frame; the caller closes the tail. */
export async function openTail(url: string, headers: Record<string, string>): Promise<Tail> {
  const ac = new AbortController()
  const res = await fetch(url, { headers, signal: ac.signal })
  if (res.status !== 200) throw new Error(`GET ${url} answered ${res.status}: ${await res.text()}`)
  const tail = new Tail(res, ac)
  await tail.until('the opening frame', () => tail.frames.length > 0)
  return tail
}

/**
 * A test file's SSE tails on one server: `open` as a key (its tail closed by `closeAll`, which the
 * file's afterAll calls before the server closes).
 */
export class Tails {
  private readonly open_: Tail[] = []

  constructor(private readonly url: () => string) {}

  async open(path: string, key: string, headers: Record<string, string> = {}): Promise<Tail> {
    const tail = await openTail(`${this.url()}${path}`, { authorization: `Bearer ${key}`, ...headers })
    this.open_.push(tail)
    return tail
  }

  closeAll(): void {
    for (const t of this.open_.splice(0)) t.close()
  }
}
