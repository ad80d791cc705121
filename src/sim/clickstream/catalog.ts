/**
 * The vocabulary of seed 004's e-commerce clickstream: partners (the tenants of a tracking
 * service), visitors' locales and devices, where they come from, and what the shops sell.
 */

export interface Partner {
  id: string
  name: string
  domain: string
  /** Share of the traffic. */
  weight: number
}

/** Seed 004's sample partner first; the rest are made up. Beyond this list names are numbered. */
export const PARTNERS: readonly Partner[] = [
  { id: '00215', name: 'lcwaikiki', domain: 'www.lcwaikiki.com', weight: 5 },
  { id: '00342', name: 'modanisa', domain: 'www.modanisa.com', weight: 3 },
  { id: '00417', name: 'gamestop', domain: 'www.gamestop.com', weight: 2 },
  { id: '00503', name: 'bookshelf', domain: 'www.bookshelf.example', weight: 1 },
  { id: '00611', name: 'gearbox', domain: 'www.gearbox.example', weight: 1 },
]

export function partner(index: number): Partner {
  const known = PARTNERS[index]
  if (known) return known
  const n = String(index + 1).padStart(5, '0')
  return { id: n, name: `partner${index + 1}`, domain: `www.partner${index + 1}.example`, weight: 1 }
}

/** Country and the language a visitor from there uses, weighted towards seed 004's Turkish shop. */
export const LOCALES: ReadonlyArray<{ country: string; language: string; weight: number }> = [
  { country: 'TR', language: 'tr_TR', weight: 6 },
  { country: 'DE', language: 'de_DE', weight: 3 },
  { country: 'US', language: 'en_US', weight: 3 },
  { country: 'GB', language: 'en_GB', weight: 2 },
  { country: 'FR', language: 'fr_FR', weight: 1 },
  { country: 'NL', language: 'nl_NL', weight: 1 },
  { country: 'BR', language: 'pt_BR', weight: 1 },
]

export const USER_AGENTS: readonly string[] = [
  // Seed 004's sample profile.
  'Mozilla/5.0 (Linux; Android 6.0.1; SAMSUNG SM-J700F Build/MMB29K) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/5.4 Chrome/51.0.2704.106 Mobile Safari/537.36',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15',
  'Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0',
  'Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36',
]

/** Where a session comes from; "" is a direct visit. The partner's own site is added per partner. */
export const REFERRERS: readonly string[] = ['https://www.google.com/', 'https://www.facebook.com/', 'https://www.instagram.com/', 'https://t.co/', '']

/** Seed 004's sample categories first. */
export const CATEGORIES: readonly string[] = ['Kız Bebek', 'Tişört, Body ve Atlet', 'Shoes', 'Jackets', 'Accessories', 'Games', 'Books', 'Electronics']

export const SEARCHES: readonly string[] = ['dress', 'sneakers', 'jacket', 'baby body', 'gift', 'headphones', 'sale', 'jeans', 'novel', 'controller']

/** Item prices, in the shop's currency. */
export const PRICES: readonly number[] = [9.99, 14.99, 19.99, 24.99, 39.99, 59.99, 89.99, 129.99]

export const PAGE_TYPES = ['home', 'category', 'product', 'search', 'cart'] as const
