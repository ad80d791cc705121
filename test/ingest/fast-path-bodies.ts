/*
 * Random POST /v1/events bodies for the fast path's differential test: mostly events of the common
 * shape, mixed with every awkward thing validate.ts and JSON.parse care about — escapes, unicode,
 * lone surrogates, numbers at the edges of double precision, wrong types, duplicate and digit-led
 * keys, nested values, non-objects, times the server changes (ahead of the receive time, `sent_at`
 * on an event or on the batch) — and, for some bodies, a syntax error or a bad UTF-8 byte.
 * Written as text token by token (not JSON.stringify), so number spellings and escapes vary.
 */
import { mulberry32, type Rng } from '../support/prng.ts'

export type { Rng }
/** The bodies' generator (test/support/prng.ts). */
export const rng: (seed: number) => Rng = mulberry32

export const T0 = Date.UTC(2026, 5, 15, 10, 0, 0)
const H = 3_600_000

export const pick = <T>(r: Rng, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!
export const q = (s: string) => `"${s}"`

export const STRINGS = [
  q('plain'),
  q(''),
  q('with space'),
  q('é unicode'),
  q('日本語'),
  q('😀 emoji'),
  q('\\n\\t\\"\\\\\\/\\b\\f\\r'),
  q('\\u00e9\\u0000\\u001f'),
  q('\\ud83d\\ude00'),
  q('\\uD83D\\uDE00'),
  q('\\ud800'),
  q('\\udc00x'),
  q('\\ud800\\u0041'),
  q('a\\ud83d'),
  q('\\ud83d\\ud83d\\ude00'),
  q('x'.repeat(8192)),
  q('x'.repeat(8193)),
  q('é'.repeat(3000)),
  q('😀'.repeat(4097)),
  q('\\u0041'.repeat(10)),
  q('/path/to?q=1&b=2'),
  q('1234'),
]
/** Not JSON: raw control characters inside a string. */
const RAW_CONTROL = [q('raw\ttab'), q('raw\nnewline'), q('ctl\u0001x')]
export const NUMBERS = [
  '0',
  '-0',
  '1',
  '-1',
  '5',
  '100',
  '1e308',
  '1e309',
  '-1e309',
  '1.5e-7',
  '1E5',
  '1e+2',
  '1e-400',
  '0.1',
  '-12.50',
  '123456789012345678',
  '9007199254740991',
  '9007199254740992',
  '9007199254740993',
  '-9007199254740991',
  '5e-324',
  '1.7976931348623157e308',
  '4.35',
  '0.000001',
  '12345678901234567890.5',
  '3.141592653589793238',
  '1e22',
  '1e23',
  '2e-22',
  '8.5e-23',
  '0e10',
  '-0.0',
  '0.5e1',
  '4.99',
  '1.0',
  '100000000000000000000000',
  '0.30000000000000004',
  '2.2250738585072014e-308',
  '123.456e-2',
  '1234567890.1234567',
  '0.12345678901234567',
  '9007199.254740993',
  '3.0000000000000004',
  '1.2345678901234567',
  '2.718281828459045235',
  '123456.78901234567',
  '4503599627370497.5',
  '0.1e-5',
  '7e-10',
  '1.00000000000000011',
  '1e1001',
  '-2.5e-1003',
  '1e-0',
  '1E+00022',
]
export const NESTED = ['{"a":1}', '[1,2,"x"]', '{}', '[]', '{"a":{"b":{"c":{"d":{"e":1}}}}}', '{"1":2,"b":3}', '[[[[[[1]]]]]]', '{"a":"\\u00e9","a":2}']
export const LITERALS = ['true', 'false', 'null']
export const KEYS = [
  'bet',
  'amount',
  'level',
  'win',
  'é',
  'ключ',
  'a b',
  '1a',
  '0',
  '42',
  '__proto__',
  '',
  'a'.repeat(128),
  'a'.repeat(129),
  'é'.repeat(100),
  'é'.repeat(128),
  'a\\nb',
  '\\u0061',
  'constructor',
  'toString',
  'hasOwnProperty',
  'batch',
  'Event',
  'ts ',
]
const NAMES = ['spin', 'spin', 'spin', 'a.b:c-d_e', '_x', '1abc', 'a b', '', 'a'.repeat(128), 'a'.repeat(129), 'sp\\u0069n', 'é']
const NAME_VALUES = ['5', 'null', 'true', '{"a":1}']
export const IDS = ['u1', 'u2', 'é', '😀', 'x'.repeat(256), 'x'.repeat(257), '', 'u\\u0031']
export const ID_LITERALS = ['42', '-7', '0', '-0', '1.0', '1e3', '9007199254740993', '9007199254740991', 'null', 'true', '{"a":1}', '[]']
export const TS = [
  String(T0),
  `${T0}.7`,
  String(T0 / 1000),
  '946684799999',
  '946684800000',
  String(T0 + 25 * H),
  String(T0 + 23 * H),
  '1e400',
  '-5',
  q('2026-06-15T10:00:00Z'),
  q('2026-06-15 10:00:00 UTC'),
  q('2026-02-30'),
  q('bad'),
  'null',
  'true',
  q('2026-06-15T10:00:00+02:00'),
  q('2026-06-15T10:00:00.123456Z'),
  q('2026-06-15T10:00:00\\u005a'),
  `${T0}e0`,
  '1.7e12',
  q('2026-06-17T10:00:00Z'),
  q('2026-06-16T09:00:00Z'),
]
/** Client times around `now` (the receive time, give or take a second): clamped, kept, or too far ahead. */
export function clientTimes(now: number): string[] {
  return [
    String(now - 5000),
    String(now + 1),
    String(now + 500),
    String(now + 999),
    String(now + 60_000),
    String(now + 23 * H),
    `${now + 2 * H}.5`,
    String(now + 24 * H + 60_000),
    q(new Date(now + 30_000).toISOString()),
    q(new Date(now - 30_000).toISOString().replace('Z', '+00:00')),
  ]
}
/** `sent_at` values: a client clock ahead, behind or right, days off, and ones that are not times. */
export function sentAts(now: number): string[] {
  return [
    String(now + H),
    String(now - H),
    String(now),
    String(now + 5 * 24 * H),
    q(new Date(now + 90_000).toISOString()),
    String(T0 + H),
    'null',
    q('bad'),
    '1700000000',
    'true',
    '1e400',
    '{}',
    q('2026-02-30'),
  ]
}
/** A client's own original_ts. Never a number: collector-fast-path-http.test.ts tells a server-written one by its type. */
const ORIGINAL_TS = [q('mine'), 'true', 'null', q('')]
const TENANTS = [q('default'), q('other'), 'null', '5', q('def\\u0061ult')]
export const NON_OBJECTS = ['5', '"x"', 'null', '[]', '[{"event":"a","user_id":"u"}]', 'true', '{}']
export const WS = ['', '', '', ' ', '\n', '\t', '\r\n  ']

/**
 * One NDJSON line for the line readers (`tagstream replay`, `tagstream ingest`): an element as
 * `body` makes them (awkward ones included), with the line breaks of its whitespace made spaces;
 * sometimes blank, whitespace only, CRLF-ended, corrupted or not UTF-8.
 */
export function line(r: Rng, used: string[], now = T0): Buffer {
  const x = r()
  if (x < 0.02) return Buffer.from(pick(r, ['', ' ', '\t', '\r', '\ufeff', '\u00a0']))
  const text = element(r, used, [], true, now).replace(/\n/g, ' ')
  let bytes: Buffer = Buffer.from(x < 0.06 ? `${text}\r` : text)
  if (x > 0.97) bytes = corrupt(r, bytes)
  return bytes
}

/**
 * One element of a body. `pre` are event ids the dedupe horizon already holds; `used` those sent so
 * far; `now` about the receive time.
 */
function element(r: Rng, used: string[], pre: readonly string[], mixed: boolean, now: number): string {
  if (mixed && r() < 0.04) return pick(r, NON_OBJECTS)
  const awkward = mixed && r() < 0.45
  const a = (p: number) => awkward && r() < p
  const fields: Array<[string, string]> = []
  fields.push(['event', a(0.2) ? (r() < 0.2 ? pick(r, NAME_VALUES) : q(pick(r, NAMES))) : q('spin')])
  const user = a(0.3) ? (r() < 0.5 ? pick(r, ID_LITERALS) : q(pick(r, IDS))) : r() < 0.2 ? String(Math.floor(r() * 1000)) : q(`u${Math.floor(r() * 50)}`)
  const anon = r() < 0.15 ? (a(0.3) ? pick(r, ID_LITERALS) : q(`anon-${Math.floor(r() * 50)}`)) : null
  if (!(anon !== null && r() < 0.5) || a(0.1)) fields.push(['user_id', user])
  if (anon !== null) fields.push(['anonymous_id', anon])
  if (!a(0.1)) fields.push(['ts', a(0.3) ? (r() < 0.35 ? pick(r, clientTimes(now)) : pick(r, TS)) : String(T0 - Math.floor(r() * H))])
  if (a(0.12)) fields.push([r() < 0.9 ? 'sent_at' : 'sent\\u005fat', pick(r, sentAts(now))])
  if (a(0.06)) fields.push(['original_ts', pick(r, ORIGINAL_TS)])
  if (r() < 0.3) {
    let id: string
    const x = r()
    if (x < 0.15 && used.length > 0) id = q(pick(r, used))
    else if (x < 0.25 && pre.length > 0) id = q(pick(r, pre))
    else if (a(0.3)) id = pick(r, [q(''), q('x'.repeat(257)), '5', 'null', q('é-id'), q('id\\u0041'), q('x'.repeat(256))])
    else {
      id = q(`id-${Math.floor(r() * 1e9)}`)
      used.push(id.slice(1, -1))
    }
    fields.push(['event_id', id])
  }
  if (r() < 0.1) fields.push(['tenant', a(0.5) ? pick(r, TENANTS) : q('default')])
  const props = Math.floor(r() * 6)
  for (let k = 0; k < props; k++) {
    const plain = pick(r, ['bet', 'amount', 'level', 'win', 'coins', 'screen'])
    // Repeated keys only in awkward events (a repeated key sends an event to the slow path).
    const key = a(0.15) ? pick(r, KEYS) : awkward ? plain : `${plain}_${k}`
    const x = r()
    const value =
      x < 0.35
        ? pick(r, STRINGS.slice(0, a(1) ? STRINGS.length : 3))
        : x < 0.75
          ? a(0.5)
            ? pick(r, NUMBERS)
            : String(Math.floor(r() * 100))
          : x < 0.9
            ? pick(r, LITERALS)
            : awkward
              ? pick(r, NESTED)
              : '7'
    fields.push([key, a(0.01) ? pick(r, RAW_CONTROL) : value])
  }
  if (a(0.1)) fields.push([pick(r, fields)[0], pick(r, ['1', q('dup'), 'null'])])
  if (a(0.05)) for (let k = 0; k < 257; k++) fields.push([`p${k}`, '1'])
  // Over the 32 KB event budget with every string within its own limit.
  if (a(0.04)) for (let k = 0; k < 5; k++) fields.push([`long${k}`, q(pick(r, ['y', 'é']).repeat(6000 + Math.floor(r() * 1000)))])
  // Shuffle: envelope fields may come anywhere.
  for (let i = fields.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1))
    ;[fields[i], fields[j]] = [fields[j]!, fields[i]!]
  }
  const w = () => pick(r, WS)
  return `{${w()}${fields.map(([k, v]) => `${q(k)}${w()}:${w()}${v}`).join(`${w()},${w()}`)}${w()}}`
}

/**
 * A whole body. Not `awkward`: valid events of the common shapes only. `awkward`: anything, and some
 * bodies not JSON or not UTF-8. `now` (default T0) is about when it will be received: the times the
 * server changes are generated around it.
 */
export function body(r: Rng, pre: readonly string[], options: { awkward: boolean; maxElements: number; now?: number }): Buffer {
  const now = options.now ?? T0
  const n = 1 + Math.floor(r() * options.maxElements)
  const used: string[] = []
  const elements: string[] = []
  for (let i = 0; i < n; i++)
    elements.push(options.awkward || r() < 0.1 ? element(r, used, pre, options.awkward, now) : `{"event":"spin","user_id":"u${Math.floor(r() * 100)}","ts":${T0 - i},"bet":${i % 100}}`)
  const w = () => pick(r, WS)
  let text = `${w()}[${w()}${elements.join(`${w()},${w()}`)}${w()}]${w()}`
  if (r() < 0.15) {
    // The batch's own sent_at, before or after it (the fast path leaves such a body to the validated path).
    const sent = options.awkward && r() < 0.4 ? `"sent_at"${w()}:${w()}${pick(r, sentAts(now))}` : null
    const after = r() < 0.5
    text = `{${w()}${sent !== null && !after ? `${sent},${w()}` : ''}"batch"${w()}:${w()}${text}${sent !== null && after ? `,${w()}${sent}` : ''}${w()}}`
  }
  if (r() < 0.05) text = `\ufeff${text}`
  let bytes: Buffer = Buffer.from(text)
  if (options.awkward && r() < 0.15) bytes = corrupt(r, bytes)
  return bytes
}

export function corrupt(r: Rng, b: Buffer): Buffer {
  const at = Math.floor(r() * b.length)
  switch (Math.floor(r() * 5)) {
    case 0:
      return Buffer.concat([b.subarray(0, at), b.subarray(at + 1)])
    case 1:
      return Buffer.concat([b.subarray(0, at), Buffer.from(pick(r, [',', ']', '}', '{', '"', ':', '\\', '\x01', 'x', '0', ' ', '-', '.', 'e'])), b.subarray(at)])
    case 2:
      return b.subarray(0, at)
    case 3:
      return Buffer.concat([b.subarray(0, at), Buffer.from([0xff]), b.subarray(at)])
    default:
      return Buffer.concat([b, Buffer.from(pick(r, [',', ']', '}', ' x', '[]', '\n']))])
  }
}
