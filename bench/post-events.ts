import http from 'node:http'
import { BENCH_KEY } from './serve-process.ts'

export interface PostAnswer {
  status: number
  /** `accepted` of a 200 answer; 0 otherwise. */
  accepted: number
  text: string
}

/**
 * POST /v1/events (or another collector path) with node:http and a keep-alive agent rather than fetch: the load generator
 * shares the two cores with the server, and fetch costs several times more CPU per request.
 */
export function postEvents(agent: http.Agent, url: string, payload: Buffer, key: string = BENCH_KEY, path = '/v1/events', basic = false): Promise<PostAnswer> {
  const { hostname, port } = new URL(url)
  // `basic`: the key as Segment's SDKs send their write key (HTTP Basic, key as the user name).
  const authorization = basic ? `Basic ${Buffer.from(`${key}:`).toString('base64')}` : `Bearer ${key}`
  return new Promise((resolve, reject) => {
    const req = http.request({ host: hostname, port, path, method: 'POST', agent, headers: { authorization, 'content-type': 'application/json', 'content-length': payload.length } }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => {
        const status = res.statusCode ?? 0
        const text = Buffer.concat(chunks).toString()
        resolve({ status, text, accepted: status === 200 ? ((JSON.parse(text) as { accepted?: number }).accepted ?? 0) : 0 })
      })
    })
    req.on('error', reject)
    req.end(payload)
  })
}
