import http from 'node:http'
import https from 'node:https'

export interface HttpAnswer {
  status: number
  text: string
  /** Seconds from a Retry-After header, when there is one. */
  retryAfter: number | null
}

/**
 * POSTs to one server over keep-alive connections. node:http rather than fetch: the simulators
 * share the machine with the server they load, and fetch costs several times more CPU per request.
 */
export class HttpTarget {
  readonly origin: string
  private readonly agent: http.Agent
  private readonly transport: typeof http | typeof https
  private readonly host: string
  private readonly port: number

  constructor(url: string, maxSockets: number) {
    let u: URL
    try {
      u = new URL(url)
    } catch {
      throw new RangeError(`--url must be an http(s) URL such as http://127.0.0.1:8080, got "${url}"`)
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new RangeError(`--url must be an http(s) URL such as http://127.0.0.1:8080, got "${url}"`)
    this.origin = u.origin
    this.transport = u.protocol === 'https:' ? https : http
    this.agent = new this.transport.Agent({ keepAlive: true, maxSockets })
    this.host = u.hostname
    this.port = Number(u.port || (u.protocol === 'https:' ? 443 : 80))
  }

  post(path: string, headers: Record<string, string>, body: string): Promise<HttpAnswer> {
    const payload = Buffer.from(body)
    return new Promise((resolve, reject) => {
      const req = this.transport.request({ host: this.host, port: this.port, path, method: 'POST', agent: this.agent, headers: { ...headers, 'content-length': payload.length } }, (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => {
          const ra = Number(res.headers['retry-after'])
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString(), retryAfter: Number.isFinite(ra) && ra >= 0 ? ra : null })
        })
        res.on('error', reject)
      })
      req.on('error', (err: NodeJS.ErrnoException) => reject(new Error(`cannot reach ${this.origin}${path}: ${err.code ?? err.message}`, { cause: err })))
      req.end(payload)
    })
  }

  close(): void {
    this.agent.destroy()
  }
}

/** The message of an API error answer (`{"error":{"code","message"}}`), else the text itself. */
export function errorText(a: HttpAnswer): string {
  try {
    const e = (JSON.parse(a.text) as { error?: { code?: string; message?: string } }).error
    if (e?.message) return `${a.status} ${e.code ?? ''}: ${e.message}`
  } catch {
    // not JSON
  }
  return `${a.status}: ${a.text.slice(0, 200)}`
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.resolve()
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(t)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    const t = setTimeout(done, ms)
    signal?.addEventListener('abort', done, { once: true })
  })
}
