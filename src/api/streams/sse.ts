import type { ServerResponse } from 'node:http'

/** One Server-Sent Events frame. `data` may span lines: each becomes its own `data:` line, as the spec requires. */
export function sseFrame(fields: { id?: string; event?: string; data?: string; retry?: number }): string {
  let s = ''
  if (fields.retry !== undefined) s += `retry: ${fields.retry}\n`
  if (fields.id !== undefined) s += `id: ${oneLine(fields.id)}\n`
  if (fields.event !== undefined) s += `event: ${oneLine(fields.event)}\n`
  if (fields.data !== undefined) for (const line of fields.data.split(/\r\n|\r|\n/)) s += `data: ${line}\n`
  return `${s}\n`
}

/** An SSE comment: ignored by clients, keeps proxies from closing an idle connection. */
export function sseComment(text: string): string {
  return `: ${oneLine(text)}\n\n`
}

function oneLine(s: string): string {
  return s.replace(/[\r\n]/g, ' ')
}

export const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache, no-transform',
  connection: 'keep-alive',
  // nginx buffers responses unless told not to; a buffered event stream is not live.
  'x-accel-buffering': 'no',
} as const

/**
 * Writes frames to a hijacked response, one at a time, honouring backpressure: when the socket's
 * buffer is full, `write` waits for 'drain' (or the client leaving) before it resolves.
 */
export class SseWriter {
  private closed = false
  private readonly closeListeners = new Set<() => void>()

  constructor(private readonly res: ServerResponse) {
    const onClose = () => this.markClosed()
    res.on('close', onClose)
    res.on('error', onClose)
  }

  get isClosed(): boolean {
    return this.closed || this.res.destroyed
  }

  /** True while the socket's buffer is over its high-water mark. */
  get busy(): boolean {
    return this.res.writableNeedDrain
  }

  /** Resolves when the chunk is handed to the socket and the buffer has room again; false when the client is gone. */
  async write(chunk: string): Promise<boolean> {
    if (this.isClosed) return false
    if (this.res.write(chunk)) return true
    return new Promise<boolean>((resolve) => {
      const done = () => {
        this.res.off('drain', done)
        this.closeListeners.delete(done)
        resolve(!this.isClosed)
      }
      this.res.on('drain', done)
      this.closeListeners.add(done)
    })
  }

  onClose(fn: () => void): void {
    if (this.isClosed) fn()
    else this.closeListeners.add(fn)
  }

  end(): void {
    if (!this.res.writableEnded) this.res.end()
    this.markClosed()
  }

  private markClosed(): void {
    if (this.closed) return
    this.closed = true
    for (const fn of [...this.closeListeners]) fn()
    this.closeListeners.clear()
  }
}
