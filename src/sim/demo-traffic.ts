import { clickstreamEvents } from './clickstream/sessions.ts'
import { partnerKeys } from './clickstream/partner-keys.ts'
import { wallClock } from './clock.ts'
import { gameRequests } from './game/requests.ts'
import { HttpTarget } from './http/client.ts'
import { sendEvents } from './http/send-events.ts'
import { sendGame } from './http/send-game.ts'
import { newStats, type SendStats } from './http/stats.ts'
import { slotsStream } from './slots-stream.ts'

export type SimulatorName = 'slots' | 'clickstream' | 'game'

/** How the demo's rate is shared: the slot machine is the busiest, the game the slowest (logins hash passwords). */
export const DEMO_SHARES: Readonly<Record<SimulatorName, number>> = { slots: 0.5, clickstream: 0.4, game: 0.1 }

/**
 * The workloads' sizes in the demo. Slots keeps seed 000's ratio (the top 20% spin ten times as
 * much as the capped rest) on 500 users; a plan of about 280,000 events lasts half an hour at
 * 150 events/s, then repeats with the next seed.
 */
export const DEMO_WORKLOADS = {
  slots: { users: 500, spins: 1_000_000, seed: 0 },
  clickstream: { partners: 3, users: 2_000, sessions: 50, seed: 0 },
  game: { players: 100, sessions: 10, seed: 0 },
} as const

export interface DemoTrafficOptions {
  url: string
  /** The default tenant's key: slots, the game, and the first partner's shoppers. */
  key: string
  /** Keys of the other partners' tenants, in partner order (partner 1, 2, …). */
  partnerKeys: readonly string[]
  /** Events per second across the three simulators. */
  rate: number
  signal: AbortSignal
  onError: (name: SimulatorName, err: Error) => void
}

export interface DemoTraffic {
  /** Live counts per simulator (updated after every answer). */
  stats: Record<SimulatorName, SendStats>
  rates: Record<SimulatorName, number>
  /** Resolves when every simulator has stopped (after the signal aborts, or on its own error). */
  done: Promise<void>
}

/** Runs the three simulators against a server over HTTP, live (events stamped when generated), until `signal` aborts. */
export function startDemoTraffic(o: DemoTrafficOptions): DemoTraffic {
  const rates = { slots: share(o.rate, 'slots'), clickstream: share(o.rate, 'clickstream'), game: share(o.rate, 'game') }
  const stats: Record<SimulatorName, SendStats> = { slots: newStats(), clickstream: newStats(), game: newStats() }
  const track = (name: SimulatorName) => (s: SendStats) => void (stats[name] = s)
  const targets: HttpTarget[] = []
  const target = (sockets: number) => {
    const t = new HttpTarget(o.url, sockets)
    targets.push(t)
    return t
  }
  const common = { signal: o.signal, batch: 200, concurrency: 2 }
  const clickKeys = [o.key, ...o.partnerKeys]
  const runs: Array<[SimulatorName, Promise<SendStats>]> = [
    ['slots', sendEvents(slotsStream(DEMO_WORKLOADS.slots, wallClock), { ...common, target: target(2), keyFor: () => o.key, rate: rates.slots, onProgress: track('slots') })],
    [
      'clickstream',
      sendEvents(clickstreamEvents(DEMO_WORKLOADS.clickstream, wallClock), {
        ...common,
        target: target(2),
        keyFor: partnerKeys(DEMO_WORKLOADS.clickstream.partners, clickKeys),
        rate: rates.clickstream,
        onProgress: track('clickstream'),
      }),
    ],
    ['game', sendGame(gameRequests(DEMO_WORKLOADS.game), { target: target(4), key: o.key, concurrency: 4, rate: rates.game, signal: o.signal, onProgress: track('game') })],
  ]
  const done = Promise.all(runs.map(([name, run]) => run.then(track(name), (err: unknown) => o.onError(name, err as Error)))).then(() => {
    for (const t of targets) t.close()
  })
  return { stats, rates, done }
}

function share(rate: number, name: SimulatorName): number {
  return Math.max(1, Math.round(rate * DEMO_SHARES[name]))
}
