import { SseParser } from '../../src/api/streams/client.ts'
import { authHeaders, errorOf, type ApiError } from './api.ts'

export type StreamState = 'connecting' | 'open' | 'retrying' | 'failed'

export interface StreamHandlers {
  onEvent(event: string, data: string): void
  onState?(state: StreamState, error?: ApiError): void
}

/**
 * Server-Sent Events read with fetch(), not EventSource: EventSource cannot send the
 * Authorization header, and putting the key in the URL would leave it in logs and history. On a
 * dropped connection it reconnects after the server's `retry:` delay with Last-Event-ID, as
 * EventSource would; a refused key or a bad request stops it (retrying cannot fix those).
 */
export function openStream(path: string, handlers: StreamHandlers): { close(): void } {
  let closed = false
  let ac: AbortController | null = null
  let retryMs = 1_000
  let lastEventId = ''
  let timer: ReturnType<typeof setTimeout> | null = null

  const connect = async () => {
    handlers.onState?.('connecting')
    ac = new AbortController()
    try {
      const headers: Record<string, string> = { ...authHeaders(), accept: 'text/event-stream' }
      if (lastEventId !== '') headers['last-event-id'] = lastEventId
      const res = await fetch(path, { headers, signal: ac.signal, cache: 'no-store' })
      if (!res.ok) {
        const err = await errorOf(res)
        if (res.status >= 400 && res.status < 500) {
          handlers.onState?.('failed', err)
          return
        }
        throw err
      }
      handlers.onState?.('open')
      const parser = new SseParser()
      parser.lastEventId = lastEventId
      const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader()
      for (;;) {
        const { value, done } = await reader.read()
        if (done) break
        for (const m of parser.push(value)) {
          if (m.retry !== null) retryMs = m.retry
          lastEventId = m.lastEventId
          if (m.data !== null) handlers.onEvent(m.event ?? 'message', m.data)
        }
      }
    } catch {
      // A network error or the abort in close(): handled below.
    }
    if (closed) return
    handlers.onState?.('retrying')
    timer = setTimeout(() => void connect(), retryMs)
  }

  void connect()
  return {
    close() {
      closed = true
      if (timer !== null) clearTimeout(timer)
      ac?.abort()
    },
  }
}
