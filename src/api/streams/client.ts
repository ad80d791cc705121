/**
 * A small Server-Sent Events reader for Node clients of the streams (tests, tools): turns a
 * response body into one message per frame. It keeps the spec's last-event-id rule: an `id:` line
 * sets it even in a frame without data, and it is what a client sends back as Last-Event-ID.
 */
export interface SseMessage {
  /** The `event:` field, or null (a browser would dispatch "message"). */
  event: string | null
  /** `data:` lines joined by "\n"; null when the frame had none (no event is dispatched). */
  data: string | null
  /** The `id:` field of this frame, or null. */
  id: string | null
  /** The last event id after this frame: what to resume from. */
  lastEventId: string
  /** Comment lines of this frame (`: keep-alive` → "keep-alive"). */
  comments: string[]
  retry: number | null
}

export class SseParser {
  lastEventId = ''
  private buffer = ''
  private frame: SseMessage | null = null

  /** Feeds decoded text; returns the frames it completed. */
  push(text: string): SseMessage[] {
    this.buffer += text
    const out: SseMessage[] = []
    let nl: number
    while ((nl = this.buffer.indexOf('\n')) >= 0) {
      let line = this.buffer.slice(0, nl)
      this.buffer = this.buffer.slice(nl + 1)
      if (line.endsWith('\r')) line = line.slice(0, -1)
      if (line === '') {
        if (this.frame) out.push(this.frame)
        this.frame = null
        continue
      }
      const f = (this.frame ??= { event: null, data: null, id: null, lastEventId: this.lastEventId, comments: [], retry: null })
      if (line.startsWith(':')) {
        f.comments.push(line.slice(1).trimStart())
        continue
      }
      const colon = line.indexOf(':')
      const field = colon < 0 ? line : line.slice(0, colon)
      let value = colon < 0 ? '' : line.slice(colon + 1)
      if (value.startsWith(' ')) value = value.slice(1)
      if (field === 'data') f.data = f.data === null ? value : `${f.data}\n${value}`
      else if (field === 'event') f.event = value
      else if (field === 'id' && !value.includes('\0')) f.id = this.lastEventId = f.lastEventId = value
      else if (field === 'retry' && /^\d+$/.test(value)) f.retry = Number(value)
    }
    return out
  }
}

/** The frames of an event-stream body, as they arrive. */
export async function* sseMessages(body: ReadableStream<Uint8Array>): AsyncGenerator<SseMessage> {
  const parser = new SseParser()
  const decoder = new TextDecoder()
  for await (const chunk of body) {
    for (const m of parser.push(decoder.decode(chunk, { stream: true }))) yield m
  }
}
