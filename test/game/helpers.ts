import type { PlayerRecord } from '../../src/players/player-store.ts'
import { request } from 'node:http'
import type { TestServer } from '../api/harness.ts'

export interface ErrorJson {
  error: { code: string; message: string; field?: string }
}

/** A player as the API returns it: the stored record without tenant and hash (checked absent). */
export type PlayerJson = Omit<PlayerRecord, 'tenant' | 'password_hash'> & { password_hash?: unknown }

export interface Answer {
  status: number
  text: string
  /** Parsed JSON; `unknown` narrowed by the test. */
  json: Record<string, unknown>
}

export interface PostOptions {
  key?: string
  /** Send as application/x-www-form-urlencoded (a string body is sent as is). */
  form?: boolean
  headers?: Record<string, string>
}

/**
 * HTTP over node:http rather than fetch: fetch may not set the Host header, and seed 002 reads
 * the player's internet provider from exactly that header.
 */
export function call(s: TestServer, method: 'GET' | 'POST', path: string, body: string | undefined, headers: Record<string, string>): Promise<Answer> {
  const url = new URL(path, s.url)
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers: body === undefined ? headers : { 'content-length': String(Buffer.byteLength(body)), ...headers } }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8')
        let json: Record<string, unknown> = {}
        try {
          json = JSON.parse(text) as Record<string, unknown>
        } catch {
          // Not JSON: the test looks at `text`.
        }
        resolve({ status: res.statusCode ?? 0, text, json })
      })
    })
    req.on('error', reject)
    if (body !== undefined) req.write(body)
    req.end()
  })
}

export function post(s: TestServer, path: string, body: Record<string, unknown> | string, opts: PostOptions = {}): Promise<Answer> {
  const form = opts.form === true
  const text = typeof body === 'string' ? body : form ? new URLSearchParams(body as Record<string, string>).toString() : JSON.stringify(body)
  const headers = {
    authorization: `Bearer ${opts.key ?? s.keys.write}`,
    'content-type': form ? 'application/x-www-form-urlencoded' : 'application/json',
    ...opts.headers,
  }
  return call(s, 'POST', path, text, headers)
}

export function get(s: TestServer, path: string, key: string = s.keys.read): Promise<Answer> {
  return call(s, 'GET', path, undefined, { authorization: `Bearer ${key}` })
}

export const playerOf = (a: Answer): PlayerJson => a.json.player as PlayerJson
export const errorOf = (a: Answer): ErrorJson['error'] => (a.json as unknown as ErrorJson).error

export { logEvents } from '../api/harness.ts'

let n = 0
/** A name no other test in the file uses. */
export const uniqueName = (prefix = 'p'): string => `${prefix}${++n}_${process.pid}`
