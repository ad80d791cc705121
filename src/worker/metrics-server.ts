import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client'
import { ProgressGauges } from '../engine/progress-metrics.ts'
import type { ProgressLine } from '../engine/progress.ts'

/**
 * A worker's own small HTTP listener (`tagstream worker --metrics-port`): `GET /metrics` in the
 * Prometheus text format (the progress figures per worker, process metrics) and `GET /healthz`
 * (200 while the worker is a member of its group and every partition it holds runs; 503 with the
 * reason before it has joined, while it rejoins, or while a partition restarts). Nothing else, no body read: anything else is a 404, a method other
 * than GET/HEAD a 405, and a slow or idle client is cut after 10 s.
 */
/** What a scrape asks the running worker: its partitions and how far each is behind. */
export interface WorkerPartitions {
  readonly id: string
  /** Per partition run here: events in the log not yet processed (end of the events partition − next offset). */
  lag(): Promise<Map<number, number>>
  /** The partitions run here now. */
  owned(): number[]
  /** Null while all is well, else why not (a readiness probe's 503). */
  trouble(): string | null
}

export class WorkerMetricsServer {
  readonly registry = new Registry()
  private readonly progress = new ProgressGauges(this.registry)
  private readonly linesLogged: Counter
  private source: WorkerPartitions | null = null
  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {
    collectDefaultMetrics({ register: this.registry, prefix: 'tagstream_' })
    this.linesLogged = new Counter({ name: 'tagstream_worker_progress_lines_total', help: 'Progress lines this worker has logged', labelNames: ['worker'], registers: [this.registry] })
    // Read at each scrape, not at each progress line: lag is what an operator alerts on.
    const read = () => this.source
    new Gauge({
      name: 'tagstream_worker_partitions',
      help: 'Partitions this worker runs now',
      labelNames: ['worker'],
      registers: [this.registry],
      collect() {
        this.reset()
        const source = read()
        if (source !== null) this.set({ worker: source.id }, source.owned().length)
      },
    })
    new Gauge({
      name: 'tagstream_worker_partition_lag',
      help: 'Events of the partition not yet processed by this worker (end of its events partition − next offset), per partition it runs',
      labelNames: ['worker', 'partition'],
      registers: [this.registry],
      async collect() {
        this.reset()
        const source = read()
        if (source === null) return
        for (const [partition, behind] of await source.lag()) this.set({ worker: source.id, partition: String(partition) }, behind)
      },
    })
  }

  /** The worker whose partitions the lag series describe (set once it has joined). */
  watch(source: WorkerPartitions): void {
    this.source = source
  }

  static async start(host: string, port: number): Promise<WorkerMetricsServer> {
    let self: WorkerMetricsServer | null = null
    const server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0]
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('only GET and HEAD\n')
        return
      }
      if (path === '/healthz') {
        const trouble = self?.source === null ? 'joining the group' : (self?.source?.trouble() ?? null)
        return void res.writeHead(trouble === null ? 200 : 503, { 'content-type': 'text/plain' }).end(trouble === null ? 'ok\n' : `${trouble}\n`)
      }
      if (path !== '/metrics' || self === null) return void res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: GET /metrics or /healthz\n')
      const registry = self.registry
      registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
        (err: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${err instanceof Error ? err.message : String(err)}\n`),
      )
    })
    server.requestTimeout = 10_000
    server.headersTimeout = 10_000
    server.keepAliveTimeout = 5_000
    server.maxConnections = 64
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, host, () => resolve())
    })
    const { port: bound } = server.address() as AddressInfo
    self = new WorkerMetricsServer(server, `http://${host.includes(':') ? `[${host}]` : host}:${bound}`)
    return self
  }

  /** A progress line was logged: its figures become the worker's series. */
  record(worker: string, line: ProgressLine): void {
    this.progress.set(worker, line)
    this.linesLogged.inc({ worker })
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve())
      this.server.closeAllConnections()
    })
  }
}
