import { argsortU32 } from './radix-sort.ts'
import { Rng } from './random.ts'
import { resolveSlotsOptions, type ResolvedSlotsOptions, type SlotsOptions } from './slots-options.ts'

export const SPIN = 'spin'
export const PURCHASE = 'in_app_purchase'
export const MACHINES = ['lucky_sevens', 'fruit_fiesta', 'dragon_gold', 'diamond_rush'] as const
export const ITEMS = ['coins', 'gems', 'spins_pack'] as const
export const AMOUNTS = [0.99, 1.99, 4.99, 9.99, 19.99] as const
/** Seed 000's caps for users outside the top tiers: 199 spins can never reach a 200-spin rule. */
export const SPIN_CAP = 199
export const PURCHASE_CAP = 1

export type SpinEvent = { event: typeof SPIN; user_id: string; ts: number; bet: number; machine: string }
export type PurchaseEvent = { event: typeof PURCHASE; user_id: string; ts: number; amount: number; item: string }
export type SlotsEvent = SpinEvent | PurchaseEvent

/**
 * The workload in columns, in output order (about 11 bytes per event), so millions of events cost
 * tens of megabytes and objects or JSON lines are made only when read.
 */
export interface SlotsPlan {
  options: ResolvedSlotsOptions
  count: number
  /** 1 for a purchase, 0 for a spin. */
  purchase: Uint8Array
  user: Uint32Array
  /** end − ts, in ms: fits 32 bits for any allowed range. */
  offset: Uint32Array
  /** Index into MACHINES (spin) or ITEMS (purchase). */
  prop: Uint8Array
  /** The bet (spin) or an index into AMOUNTS (purchase). */
  value: Uint8Array
}

// Separate streams, so changing --hours or --end moves the times but keeps the same users and bets.
const WHO = 0
const WHEN = 1
const WHAT = 2

export function planSlots(options: SlotsOptions = {}): SlotsPlan {
  const o = resolveSlotsOptions(options)
  const who = new Rng(o.seed, WHO)
  const what = new Rng(o.seed, WHAT)
  const capacity = 2 * o.users + o.spins
  const user = new Uint32Array(capacity)
  const prop = new Uint8Array(capacity)
  const value = new Uint8Array(capacity)
  let n = 0

  // Purchases first, then spins, each attempt picking a uniformly random user: the seed's loops.
  const topBuyers = Math.floor(o.users / 50)
  const bought = new Uint8Array(o.users + 1)
  for (let a = 0; a < 2 * o.users; a++) {
    const u = who.int(1, o.users)
    if (u > topBuyers) {
      if (bought[u]! >= PURCHASE_CAP) continue
      bought[u]!++
    }
    user[n] = u
    prop[n] = what.below(ITEMS.length)
    value[n++] = what.below(AMOUNTS.length)
  }
  const purchases = n
  const topSpinners = Math.floor(o.users / 5)
  const spun = new Uint8Array(o.users + 1)
  for (let a = 0; a < o.spins; a++) {
    const u = who.int(1, o.users)
    if (u > topSpinners) {
      if (spun[u]! >= SPIN_CAP) continue
      spun[u]!++
    }
    user[n] = u
    prop[n] = what.below(MACHINES.length)
    value[n++] = what.int(1, 100)
  }

  const span = Math.round(o.hours * 3_600_000)
  const when = new Rng(o.seed, WHEN)
  const offset = new Uint32Array(n)
  for (let i = 0; i < n; i++) offset[i] = when.below(span)
  const purchase = new Uint8Array(n).fill(1, 0, purchases)
  const plan = { options: o, count: n, purchase, user: user.subarray(0, n), offset, prop: prop.subarray(0, n), value: value.subarray(0, n) }
  return o.order === 'time' ? sortByTime(plan, span) : plan
}

/**
 * Ascending ts; equal times keep generation order, so the sort is deterministic. The columns are
 * permuted once here because reading them through an index later was half the speed (cache misses).
 */
function sortByTime(plan: SlotsPlan, span: number): SlotsPlan {
  const keys = new Uint32Array(plan.count)
  for (let i = 0; i < plan.count; i++) keys[i] = span - 1 - plan.offset[i]!
  const order = argsortU32(keys)
  return {
    ...plan,
    purchase: gather(plan.purchase, order, new Uint8Array(plan.count)),
    user: gather(plan.user, order, new Uint32Array(plan.count)),
    offset: gather(plan.offset, order, new Uint32Array(plan.count)),
    prop: gather(plan.prop, order, new Uint8Array(plan.count)),
    value: gather(plan.value, order, new Uint8Array(plan.count)),
  }
}

function gather<T extends Uint8Array | Uint32Array>(column: T, order: Uint32Array, into: T): T {
  for (let i = 0; i < order.length; i++) into[i] = column[order[i]!]!
  return into
}

export function slotsEventAt(plan: SlotsPlan, i: number): SlotsEvent {
  const user_id = String(plan.user[i])
  const ts = plan.options.end - plan.offset[i]!
  if (plan.purchase[i]) return { event: PURCHASE, user_id, ts, amount: AMOUNTS[plan.value[i]!]!, item: ITEMS[plan.prop[i]!]! }
  return { event: SPIN, user_id, ts, bet: plan.value[i]!, machine: MACHINES[plan.prop[i]!]! }
}

/** The events in output order, made one at a time. */
export function* slotsEvents(plan: SlotsPlan): Generator<SlotsEvent> {
  for (let i = 0; i < plan.count; i++) yield slotsEventAt(plan, i)
}

/** All events in memory: for tests and small runs (a few million events at most). */
export function generateSlots(options: SlotsOptions = {}): { events: SlotsEvent[]; end: number } {
  const plan = planSlots(options)
  const events = new Array<SlotsEvent>(plan.count)
  for (let i = 0; i < plan.count; i++) events[i] = slotsEventAt(plan, i)
  return { events, end: plan.options.end }
}
