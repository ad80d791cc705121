import type { Clock } from './clock.ts'
import { planSlots, slotsEventAt, type SlotsEvent } from './slots.ts'
import type { SlotsOptions } from './slots-options.ts'

/**
 * Seed 000's workload as a stream for sending. With a clock (live), every event is stamped when it
 * is generated, keeping the plan's order, and the plan repeats with the next seed when it runs out,
 * so the stream never ends; without one, it is exactly the plan's events, planned times included.
 */
export function* slotsStream(options: SlotsOptions, clock?: Clock): Generator<SlotsEvent> {
  const seed = options.seed ?? 0
  for (let round = 0; ; round++) {
    const plan = planSlots({ ...options, seed: (seed + round) % 2 ** 32 })
    for (let i = 0; i < plan.count; i++) {
      const e = slotsEventAt(plan, i)
      if (clock) e.ts = clock()
      yield e
    }
    if (!clock) return
  }
}
