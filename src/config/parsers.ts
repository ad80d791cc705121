import { ValueProblem } from './config-error.ts'

/**
 * The parsers every flag and environment variable goes through. Each takes the text as typed and
 * returns the typed value or throws a ValueProblem that says what is allowed (never where the
 * value came from: read-setting.ts adds that). They are strict on purpose: `1.5`, `0x10`, `1e3`
 * and an empty string are not integers, so a typo fails at start-up instead of becoming NaN or 0.
 */
export type Parser<T> = (raw: string) => T

const INTEGER = /^-?\d+$/
const DECIMAL = /^\d+(\.\d+)?$/

function range(min: number, max: number | undefined): string {
  return max === undefined ? `of at least ${min}` : `from ${min} to ${max}`
}

/** A whole number in [min, max] (max open when absent); spaces around it are ignored. */
export function integer(min: number, max?: number, what = 'an integer'): Parser<number> {
  return (raw) => {
    const text = raw.trim()
    const n = INTEGER.test(text) ? Number(text) : NaN
    if (!Number.isSafeInteger(n) || n < min || (max !== undefined && n > max)) throw new ValueProblem(`must be ${what} ${range(min, max)}`)
    return n
  }
}

/** A duration in whole milliseconds (the unit every `-ms` flag uses). */
export function durationMs(min: number, max?: number): Parser<number> {
  return integer(min, max, 'a duration in milliseconds, an integer')
}

/** A TCP port; 0 asks the system for a free one. */
export const port: Parser<number> = integer(0, 65_535, 'a port, an integer')

/** A decimal number in (0, max]: `1.5` hours. */
export function positiveNumber(max: number): Parser<number> {
  return (raw) => {
    const text = raw.trim()
    const n = DECIMAL.test(text) ? Number(text) : NaN
    if (!(n > 0 && n <= max)) throw new ValueProblem(`must be a number in (0, ${max}]`)
    return n
  }
}

/** The allowed values as messages list them: `"time" or "random"`, `one of "table", "csv", "json"`. */
export function listValues(values: readonly string[]): string {
  const quoted = values.map((v) => JSON.stringify(v))
  return quoted.length === 2 ? `${quoted[0]} or ${quoted[1]}` : `one of ${quoted.join(', ')}`
}

/** One of a fixed list of words, exactly (case matters: they are names). */
export function oneOf<T extends string>(values: readonly T[]): Parser<T> {
  return (raw) => {
    const text = raw.trim()
    const hit = values.find((v) => v === text)
    if (hit === undefined) throw new ValueProblem(`must be ${listValues(values)}`)
    return hit
  }
}

const ON = ['on', 'true', '1']
const OFF = ['off', 'false', '0']

/** A switch: on/off, also true/false and 1/0, case ignored. */
export const onOff: Parser<boolean> = (raw) => {
  const text = raw.trim().toLowerCase()
  if (ON.includes(text)) return true
  if (OFF.includes(text)) return false
  throw new ValueProblem('must be "on" or "off" (or true/false, 1/0)')
}

/** A time of day, `HH:MM` (24-hour), as minutes after midnight. */
export const timeOfDay: Parser<number> = (raw) => {
  const m = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(raw.trim())
  if (m === null) throw new ValueProblem('must be a time of day HH:MM, 00:00 to 23:59')
  return Number(m[1]) * 60 + Number(m[2])
}

/** An absolute http:// or https:// URL. */
export const httpUrl: Parser<string> = (raw) => {
  const text = raw.trim()
  const url = URL.canParse(text) ? new URL(text) : null
  if (url === null || (url.protocol !== 'http:' && url.protocol !== 'https:')) throw new ValueProblem('must be an http:// or https:// URL')
  return text
}

/** Text that is not empty (a path, a host, a URL whose scheme the opener checks). */
export const nonEmpty: Parser<string> = (raw) => {
  if (raw.trim() === '') throw new ValueProblem('must not be empty')
  return raw
}

/** A name without spaces, 1 to max characters (a worker id). */
export function token(max: number): Parser<string> {
  return (raw) => {
    if (!new RegExp(`^\\S{1,${max}}$`).test(raw)) throw new ValueProblem(`must be 1 to ${max} characters without spaces`)
    return raw
  }
}

/** A comma-separated list of tokens without spaces around or inside them (API keys for the simulators). */
export function tokenList(what: string): Parser<string[]> {
  return (raw) => {
    const list = raw.split(',').map((k) => k.trim())
    if (list.some((k) => k === '' || /\s/.test(k))) throw new ValueProblem(`must be ${what} or a comma-separated list of them`)
    return list
  }
}

/** Wraps a parser written elsewhere (API keys, webhooks) whose errors are plain Errors. */
export function fromThrowing<T>(parse: (raw: string) => T): Parser<T> {
  return (raw) => {
    try {
      return parse(raw)
    } catch (err) {
      if (err instanceof ValueProblem) throw err
      throw new ValueProblem((err as Error).message, { cause: err })
    }
  }
}
