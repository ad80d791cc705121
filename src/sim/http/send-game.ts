import { encodeGameBody, type GameExpect, type GameRequest } from '../game/requests.ts'
import { hash32 } from '../random.ts'
import { errorText, sleep, type HttpTarget } from './client.ts'
import { Pacer } from './pacer.ts'
import { newStats, sample, type SendStats } from './stats.ts'

export interface SendGameOptions {
  target: HttpTarget
  key: string
  /** Requests in flight at most: one lane each. */
  concurrency: number
  /** Requests (= events) per second; 0 = flat out. */
  rate: number
  /** Stop after this many requests (default: when the source ends). */
  limit?: number
  signal?: AbortSignal
  onProgress?: (stats: SendStats) => void
}

/** Requests queued per lane before the generator waits. */
const LANE_QUEUE = 8

/**
 * Plays game requests against the Game API. Each player is bound to one of `concurrency` lanes and
 * a lane sends one request at a time, so a player's calls arrive in the generated order (register
 * before login before buying) while different players' calls run concurrently: the final state of
 * every player is the same at any concurrency. Refusals the game makes on purpose (402, 409) are
 * counted, not errors; anything else that is not 2xx stops the run.
 */
export async function sendGame(source: Iterator<GameRequest>, o: SendGameOptions): Promise<SendStats> {
  const stats = newStats()
  const pacer = new Pacer(o.rate)
  const limit = o.limit ?? Number.POSITIVE_INFINITY
  const tails: Array<Promise<void>> = Array.from({ length: o.concurrency }, () => Promise.resolve())
  const queued = new Array<number>(o.concurrency).fill(0)
  let failure: Error | null = null

  const send = async (req: GameRequest): Promise<void> => {
    if (failure || o.signal?.aborted) return
    const { contentType, body } = encodeGameBody(req)
    const headers = { authorization: `Bearer ${o.key}`, 'content-type': contentType, host: req.host, 'user-agent': req.userAgent, accept: '*/*' }
    for (;;) {
      const answer = await o.target.post(req.path, headers, body)
      stats.requests++
      const got = outcome(answer.status, answer.text)
      if (got === 'retry' && !o.signal?.aborted) {
        stats.retries++
        await sleep((answer.retryAfter ?? 1) * 1000, o.signal)
        if (!o.signal?.aborted) continue
      }
      if (got === 'retry' || got === 'error') throw new Error(`POST ${o.target.origin}${req.path} answered ${errorText(answer)}`)
      // A refused registration (the player exists from an earlier run) writes no event; every other answer does.
      if (got !== 'duplicate') stats.accepted++
      if (got !== 'created' && got !== 'ok') stats.refused++
      if (got !== req.expect) {
        stats.unexpected++
        sample(stats, `${req.path} for ${req.player}: expected ${req.expect}, got ${errorText(answer)}`)
      }
      o.onProgress?.(stats)
      return
    }
  }

  let produced = 0
  while (!o.signal?.aborted && !failure && produced < limit) {
    if (pacer.due(produced) === 0) {
      await sleep(Math.max(2, pacer.msUntilNext(produced)), o.signal)
      continue
    }
    const next = source.next()
    if (next.done) break
    produced++
    const req = next.value
    const lane = laneOf(req.player, o.concurrency)
    while (queued[lane]! >= LANE_QUEUE) await tails[lane]
    queued[lane]!++
    stats.sent++
    tails[lane] = tails[lane]!.then(() => send(req))
      .catch((err: unknown) => void (failure ??= err as Error))
      .finally(() => void queued[lane]!--)
  }
  await Promise.all(tails)
  if (failure) throw failure
  return stats
}

type Outcome = GameExpect | 'duplicate' | 'retry' | 'error'

function outcome(status: number, text: string): Outcome {
  if (status === 201) return 'created'
  if (status === 200) return 'ok'
  if (status === 429 || status === 503) return 'retry'
  const code = /"code":"([a-z_]+)"/.exec(text)?.[1]
  if (status === 402 && code === 'insufficient_funds') return 'insufficient_funds'
  if (status === 409 && code === 'already_member') return 'already_member'
  if (status === 409 && (code === 'duplicate_id' || code === 'duplicate_name')) return 'duplicate'
  return 'error'
}

function laneOf(player: string, lanes: number): number {
  let h = 0
  for (let i = 0; i < player.length; i++) h = hash32(h, player.charCodeAt(i))
  return h % lanes
}
