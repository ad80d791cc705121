import type { FastifyReply } from 'fastify'
import { SSE_HEADERS, SseWriter, sseFrame } from '../streams/sse.ts'
import type { LiveHello } from './live-sample.ts'
import { forTenant, type ServerSample, type StatsSampler } from './stats-sampler.ts'

/**
 * The dashboard's live numbers as Server-Sent Events: a `hello` frame with the retained history,
 * then one `sample` frame per sampler interval. A client whose socket is still full from the
 * previous frame skips a sample rather than queueing it: the next one supersedes it anyway.
 */
export class LiveStreams {
  private readonly writers = new Set<SseWriter>()

  constructor(
    private readonly sampler: StatsSampler,
    private readonly partitions: number,
    readonly maxClients: number,
  ) {}

  get size(): number {
    return this.writers.size
  }

  get full(): boolean {
    return this.writers.size >= this.maxClients
  }

  /** Opens a stream for `tenant`; `onClosed` is called once when it ends (frees its slot). */
  open(reply: FastifyReply, tenant: string, onClosed: () => void = () => {}): void {
    reply.hijack()
    reply.raw.writeHead(200, SSE_HEADERS)
    const writer = new SseWriter(reply.raw)
    this.writers.add(writer)
    const hello: LiveHello = { interval_ms: this.sampler.options.intervalMs, partitions: this.partitions, history: this.sampler.historyFor(tenant) }
    void writer.write(sseFrame({ retry: 1_000, event: 'hello', data: JSON.stringify(hello) }))
    const unsubscribe = this.sampler.subscribe((s: ServerSample) => {
      if (writer.isClosed || writer.busy) return
      void writer.write(sseFrame({ event: 'sample', data: JSON.stringify(forTenant(s, tenant)) }))
    })
    writer.onClose(() => {
      unsubscribe()
      this.writers.delete(writer)
      onClosed()
    })
  }

  /** Ends every open stream (hijacked responses are not closed by Fastify). */
  closeAll(): void {
    for (const w of [...this.writers]) w.end()
  }
}
