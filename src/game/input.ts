import { GameError, invalidField, missingField } from './errors.ts'

/** A request body after parsing: JSON object or form fields (a repeated form field is an array). */
export type Body = Readonly<Record<string, unknown>>

/** Wealth and costs are capped so sums stay exact in a double and far from 2^53. */
export const MAX_AMOUNT = 1e12
export const MAX_TEXT = 64
export const PASSWORD_LENGTH = { min: 4, max: 256 } as const
/** Client-chosen player ids (seed 003's `userid`) become event user ids and store keys. */
const ID_PATTERN = /^[A-Za-z0-9_.:-]{1,64}$/
const NUMBER_TEXT = /^-?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i
// eslint-disable-next-line no-control-regex -- control characters are exactly what this rejects
const CONTROL = /[\u0000-\u001f\u007f]/

export function asBody(body: unknown): Body {
  if (body === undefined || body === null) return {}
  if (typeof body !== 'object' || Array.isArray(body)) throw new GameError(400, 'invalid_body', 'the body must be a JSON object or form fields')
  return body as Body
}

/** The first of `names` present in the body (aliases: seed 003 says userid/username/userpwd). */
function pick(body: Body, names: readonly string[]): { name: string; value: unknown } | undefined {
  for (const name of names) {
    const value = body[name]
    if (value !== undefined && value !== null && value !== '') return { name, value }
  }
  return undefined
}

/** Whether a field was sent with a value (an empty form field counts as absent). */
export function present(body: Body, name: string): boolean {
  return pick(body, [name]) !== undefined
}

function single(name: string, value: unknown): unknown {
  if (Array.isArray(value)) throw invalidField(name, 'is given more than once')
  return value
}

/** A short label (name, type, org, level): 1–64 characters, no control characters; integers are accepted as text. */
export function readText(body: Body, names: readonly [string, ...string[]], required: true): string
export function readText(body: Body, names: readonly [string, ...string[]], required: false): string | undefined
export function readText(body: Body, names: readonly [string, ...string[]], required: boolean): string | undefined {
  const found = pick(body, names)
  if (found === undefined) {
    if (required) throw missingField(names[0], names.slice(1))
    return undefined
  }
  return text(found.name, single(found.name, found.value))
}

function text(name: string, value: unknown): string {
  const s = typeof value === 'number' && Number.isSafeInteger(value) ? String(value) : value
  if (typeof s !== 'string') throw invalidField(name, 'must be a string')
  if (s.length > MAX_TEXT) throw invalidField(name, `must be at most ${MAX_TEXT} characters`)
  if (CONTROL.test(s)) throw invalidField(name, 'must not contain control characters')
  // One form per text: "é" typed as one code point or as e + accent names the same player.
  return s.normalize('NFC')
}

export function readId(body: Body, names: readonly [string, ...string[]]): string | undefined {
  const id = readText(body, names, false)
  if (id !== undefined && !ID_PATTERN.test(id)) throw invalidField(names[0], 'must be 1 to 64 letters, digits, _ . : -')
  return id
}

export function readPassword(body: Body): string {
  const found = pick(body, ['password', 'userpwd'])
  if (found === undefined) throw missingField('password', ['userpwd'])
  const value = single('password', found.value)
  if (typeof value !== 'string') throw invalidField('password', 'must be a string')
  if (value.length < PASSWORD_LENGTH.min || value.length > PASSWORD_LENGTH.max) {
    throw invalidField('password', `must be ${PASSWORD_LENGTH.min} to ${PASSWORD_LENGTH.max} characters`)
  }
  return value
}

/**
 * A sum of money: a JSON number or a decimal string (form bodies are all strings), finite,
 * 0 ≤ x ≤ MAX_AMOUNT, at most 2 decimal places — so wealth arithmetic in cents is exact.
 */
export function readAmount(body: Body, name: string, fallback?: number): number {
  const found = pick(body, [name])
  if (found === undefined) {
    if (fallback === undefined) throw missingField(name)
    return fallback
  }
  return parseAmount(name, single(name, found.value))
}

export function parseAmount(name: string, value: unknown): number {
  let n: number
  if (typeof value === 'number') n = value
  else if (typeof value === 'string' && NUMBER_TEXT.test(value.trim())) n = Number(value.trim())
  else throw invalidField(name, `must be a number, got ${JSON.stringify(value)}`)
  if (!Number.isFinite(n)) throw invalidField(name, 'must be a finite number')
  if (n < 0) throw invalidField(name, 'must not be negative')
  if (n > MAX_AMOUNT) throw invalidField(name, `must be at most ${MAX_AMOUNT}`)
  const cents = Math.round(n * 100)
  if (Math.abs(n * 100 - cents) > 1e-6) throw invalidField(name, 'must have at most 2 decimal places')
  // -0 would print as 0 but compare oddly; amounts are plain non-negative numbers.
  return cents === 0 ? 0 : cents / 100
}
