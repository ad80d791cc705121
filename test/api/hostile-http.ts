import { connect, type Socket } from 'node:net'

/** Raw HTTP/1.1 over a socket: what a hostile client sends, byte by byte, with no client library in between. */
export interface RawRequest {
  socket: Socket
  /** Resolves with the status line's code once the server answers (null if the socket closed first). */
  status: Promise<number | null>
  /** Everything the server sent so far. */
  received(): string
}

export function openRaw(url: string, head: string): RawRequest {
  const { hostname, port } = new URL(url)
  const socket = connect({ host: hostname, port: Number(port) })
  socket.on('error', () => {})
  let text = ''
  const status = new Promise<number | null>((resolve) => {
    socket.on('data', (d: Buffer) => {
      text += d.toString('latin1')
      const m = /^HTTP\/1\.1 (\d{3})/.exec(text)
      if (m) resolve(Number(m[1]))
    })
    socket.on('close', () => resolve(null))
  })
  socket.write(head)
  return { socket, status, received: () => text }
}

export function postHead(path: string, key: string, headers: Record<string, string>): string {
  const lines = [`POST ${path} HTTP/1.1`, 'host: localhost', `authorization: Bearer ${key}`, 'content-type: application/json']
  for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`)
  return `${lines.join('\r\n')}\r\n\r\n`
}

/** Writes honouring the socket's buffer: false when the socket closed or `ms` passed without drain. */
export function writeDrained(socket: Socket, chunk: Buffer | string, ms: number): Promise<boolean> {
  if (socket.destroyed) return Promise.resolve(false)
  if (socket.write(chunk)) return Promise.resolve(true)
  return new Promise((resolve) => {
    const done = (ok: boolean) => {
      clearTimeout(timer)
      socket.off('drain', onDrain)
      socket.off('close', onClose)
      resolve(ok)
    }
    const onDrain = () => done(true)
    const onClose = () => done(false)
    const timer = setTimeout(() => done(false), ms)
    socket.on('drain', onDrain)
    socket.on('close', onClose)
  })
}

export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms))])
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms))
}
