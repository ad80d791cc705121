/**
 * List prices for seed 002's `POST /purchase/<item_name>`, which sends no cost: a purchase without
 * a `cost` pays the list price of its kind. Kinds outside the table must send a cost.
 */
export const LIST_PRICES: Readonly<Record<string, number>> = Object.freeze({
  sword: 100,
  shield: 80,
  helmet: 50,
  knife: 20,
  gauntlet: 40,
  spell: 150,
  potion: 10,
})

export function listPrice(kind: string): number | undefined {
  return Object.hasOwn(LIST_PRICES, kind) ? LIST_PRICES[kind] : undefined
}

/** Item kinds are URL segments and event property values: short, lowercase, path-safe. */
export const KIND_PATTERN = /^[a-z_]{1,32}$/

export const JOIN_KINDS = ['guild', 'team'] as const
export type JoinKind = (typeof JOIN_KINDS)[number]

export function isJoinKind(kind: string): kind is JoinKind {
  return (JOIN_KINDS as readonly string[]).includes(kind)
}
