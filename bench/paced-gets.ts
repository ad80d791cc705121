import net from 'node:net'

/*
 * GET requests at a fixed rate over a few keep-alive connections, written and read on raw sockets
 * (HTTP/1.1 pipelining, answers matched in order and cut by Content-Length). The load generator
 * shares the machine's two cores with the server: node:http costs it about 60 µs a request, which at
 * 10,000 requests/s is most of a core and delays its own reading of answers. This costs a few µs,
 * so the latencies are the server's. Requests are sent when due (every millisecond, those whose
 * time has come), never held back waiting for earlier answers: a slow answer delays nothing else.
 */

export interface PacedGetOptions {
  url: string
  /** Request path of the k-th request. */
  path: (k: number) => string
  headers: Record<string, string>
  rate: number
  seconds: number
  connections?: number
  /** Checks an answer's status and body; a false makes the run throw. */
  check: (k: number, status: number, body: string) => boolean
}

interface Pending {
  k: number
  sent: number
}

/** Latencies in ms, sorted. */
export async function pacedGets(o: PacedGetOptions): Promise<number[]> {
  const { hostname, port } = new URL(o.url)
  const head = Object.entries(o.headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('')
  const latencies: number[] = []
  let wrong = 0
  const total = o.rate * o.seconds
  let done = 0
  let finish: () => void = () => {}
  const finished = new Promise<void>((r) => (finish = r))
  const sockets = await Promise.all(
    Array.from({ length: o.connections ?? 16 }, () => {
      return new Promise<{ socket: net.Socket; queue: Pending[] }>((resolve, reject) => {
        const socket = net.connect(Number(port), hostname, () => resolve({ socket, queue }))
        socket.setNoDelay(true)
        const queue: Pending[] = []
        let buf: Buffer = Buffer.alloc(0)
        socket.on('error', reject)
        socket.on('data', (chunk: Buffer) => {
          buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk])
          for (;;) {
            const end = buf.indexOf('\r\n\r\n')
            if (end < 0) break
            const headers = buf.toString('latin1', 0, end)
            const length = Number(/\r\ncontent-length: *(\d+)/i.exec(headers)?.[1] ?? 0)
            if (buf.length < end + 4 + length) break
            const status = Number(headers.slice(9, 12))
            const body = buf.toString('utf8', end + 4, end + 4 + length)
            buf = buf.subarray(end + 4 + length)
            const p = queue.shift()!
            latencies.push(performance.now() - p.sent)
            if (!o.check(p.k, status, body)) wrong++
            if (++done === total) finish()
          }
        })
      })
    }),
  )
  const t0 = performance.now()
  let k = 0
  await new Promise<void>((resolve) => {
    const tick = () => {
      const due = Math.min(total, Math.floor(((performance.now() - t0) * o.rate) / 1000) + 1)
      for (; k < due; k++) {
        const c = sockets[k % sockets.length]!
        c.queue.push({ k, sent: performance.now() })
        c.socket.write(`GET ${o.path(k)} HTTP/1.1\r\nhost: ${hostname}\r\n${head}\r\n`)
      }
      if (k < total) setTimeout(tick, 1)
      else resolve()
    }
    tick()
  })
  await finished
  for (const c of sockets) c.socket.destroy()
  if (wrong > 0) throw new Error(`${wrong} of ${total} answers were not the expected ones`)
  return latencies.sort((a, b) => a - b)
}
