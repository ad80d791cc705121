import type { Clock } from '../clock.ts'
import { Rng, hash32, weightedAt } from '../random.ts'
import type { RawEvent } from '../raw-event.ts'
import { CATEGORIES, LOCALES, PAGE_TYPES, PRICES, REFERRERS, SEARCHES, USER_AGENTS, partner, type Partner } from './catalog.ts'
import { resolveClickstreamOptions, type ClickstreamOptions, type ResolvedClickstreamOptions } from './options.ts'

const LOCALE_WEIGHTS = LOCALES.map((l) => l.weight)

export const CLICK_EVENTS = ['page_view', 'search', 'add_to_cart', 'purchase'] as const

/** A visitor's session: one device, one referrer, a cart that may or may not be bought. */
interface Session {
  partner: number
  userId: string
  country: string
  language: string
  userAgent: string
  referrer: string
  sessionId: string
  /** Events still to come before the visitor leaves (a purchase may follow). */
  left: number
  /** Cart total in cents, so sums stay exact. */
  cartCents: number
  cartItems: number
  emitted: number
  /** The next event is the purchase of the cart. */
  checkout: boolean
  done: boolean
}

// Independent streams: which session acts, and what it does.
const WHO = 0
const WHAT = 1

/**
 * Seed 004's clickstream as an endless stream: `sessions` visitors browse at once, each session a
 * page view that opens it, then page views, searches and add-to-carts, and for some carts a
 * purchase. Partners differ in traffic, visitors in country and language, and a visitor keeps the
 * same identity (user_id, locale) across up to three devices. Same seed and clock → same events.
 */
export function* clickstreamEvents(options: ClickstreamOptions, clock: Clock): Generator<RawEvent> {
  const o = resolveClickstreamOptions(options)
  const who = new Rng(o.seed, WHO)
  const what = new Rng(o.seed, WHAT)
  const partners = Array.from({ length: o.partners }, (_, i) => partner(i))
  const weights = partners.map((p) => p.weight)
  const open: Array<Session | null> = new Array<Session | null>(o.sessions).fill(null)
  for (;;) {
    const slot = who.below(open.length)
    let s = open[slot]
    if (!s) {
      s = newSession(o, who, partners, weights)
      open[slot] = s
    }
    const e = nextEvent(s, partners[s.partner]!, what, clock)
    if (s.done) open[slot] = null
    yield e
  }
}

function newSession(o: ResolvedClickstreamOptions, who: Rng, partners: readonly Partner[], weights: readonly number[]): Session {
  const p = partners.indexOf(who.weighted(partners, weights))
  // Squaring favours low indices: some visitors come back often, most rarely.
  const r = who.float()
  const u = Math.floor(o.users * r * r)
  const id = hash32(o.seed, p, u)
  const locale = weightedAt(LOCALES, LOCALE_WEIGHTS, hash32(id, 1) / 2 ** 32)
  const devices = 1 + (hash32(id, 2) % 3)
  const device = who.below(devices)
  return {
    partner: p,
    userId: userId(id, u),
    country: locale.country,
    language: locale.language,
    userAgent: USER_AGENTS[hash32(id, 3 + device) % USER_AGENTS.length]!,
    referrer: who.chance(0.2) ? `https://${partners[p]!.domain}/` : who.pick(REFERRERS),
    sessionId: uuidLike(who),
    left: 1 + geometric(who, 7),
    cartCents: 0,
    cartItems: 0,
    emitted: 0,
    checkout: false,
    done: false,
  }
}

/** Shaped like seed 004's ids ("3939a171d2ce3.4126983939a"), unique per partner and visitor. */
function userId(id: number, u: number): string {
  return `${id.toString(16).padStart(8, '0')}${(u & 0xfffff).toString(16).padStart(5, '0')}.${String(hash32(id, u, 7) % 1e10).padStart(10, '0')}`
}

function uuidLike(rng: Rng): string {
  const hex = (n: number) => rng.u32().toString(16).padStart(8, '0').slice(0, n)
  return `${hex(8)}-${hex(4)}-${hex(4)}-${hex(4)}-${hex(8)}${hex(4)}`
}

/** 1 + geometric: mean about `mean`, never 0. */
function geometric(rng: Rng, mean: number): number {
  const p = 1 / mean
  return Math.min(200, Math.floor(Math.log(1 - rng.float()) / Math.log(1 - p)))
}

function nextEvent(s: Session, p: Partner, what: Rng, clock: Clock): RawEvent {
  const ts = clock()
  const first = s.emitted++ === 0
  // The session id ends in the epoch second it began, as in seed 004.
  if (first) s.sessionId = `${s.sessionId}_${Math.floor(ts / 1000)}`
  const base = {
    user_id: s.userId,
    ts,
    partner_id: p.id,
    partner_name: p.name,
    session_id: s.sessionId,
    country: s.country,
    language: s.language,
    user_agent: s.userAgent,
    referrer: s.referrer,
    version: '1.0',
  }
  if (s.checkout) {
    // The visitor buys the cart: the session's last event.
    s.done = true
    const amount = s.cartCents / 100
    return { event: 'purchase', ...base, page_type: 'cart', current_url: `https://${p.domain}/checkout`, amount, cart_amount: amount, items: s.cartItems }
  }
  const e = browse(s, p, what, base, first)
  if (--s.left === 0) {
    // About a third of the carts are bought; the rest are abandoned (seed 004's push on add_to_cart).
    if (s.cartCents > 0 && what.chance(0.35)) s.checkout = true
    else s.done = true
  }
  return e
}

type Base = { user_id: string; ts: number; [property: string]: string | number }

function browse(s: Session, p: Partner, what: Rng, base: Base, first: boolean): RawEvent {
  if (first) {
    const page = what.weighted(['home', 'category', 'product'], [5, 3, 2])
    return { event: 'page_view', ...base, init_session: 1, page_type: page, current_url: pageUrl(p, page, what) }
  }
  const kind = what.weighted(['page_view', 'search', 'add_to_cart'], [55, 15, 30])
  if (kind === 'search') {
    const q = what.pick(SEARCHES)
    return { event: 'search', ...base, page_type: 'search', search_query: q, current_url: `https://${p.domain}/search?q=${encodeURIComponent(q)}` }
  }
  const category = what.pick(CATEGORIES)
  if (kind === 'add_to_cart') {
    const price = what.pick(PRICES)
    s.cartCents += Math.round(price * 100)
    s.cartItems++
    return { event: 'add_to_cart', ...base, page_type: 'product', category, product_id: `p${what.int(1000, 9999)}`, price, cart_amount: s.cartCents / 100, current_url: pageUrl(p, 'product', what) }
  }
  const page = what.pick(PAGE_TYPES.slice(0, 3))
  return { event: 'page_view', ...base, page_type: page, category, current_url: pageUrl(p, page, what) }
}

function pageUrl(p: Partner, page: string, rng: Rng): string {
  return page === 'home' ? `https://${p.domain}/` : `https://${p.domain}/${page}/${rng.int(100, 999)}`
}
