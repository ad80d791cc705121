/*
 * Random POST /v1/batch bodies (the Segment tracking spec) for the Segment reader's differential
 * test: mostly messages as @segment/analytics-node and RudderStack's SDK send them (track and
 * identify calls, ISO timestamps, a context, integrations, _metadata, the batch's sentAt, a sentAt on
 * each message), mixed
 * with every awkward thing the mapping (src/ingest/segment/message.ts), validate.ts and JSON.parse
 * care about: the other calls, names the mapping rewrites or renames, ids of every type, both time
 * fields, a message's own sentAt, nested and repeated properties, contexts validation refuses, and
 * bodies of other shapes, not JSON or not UTF-8. Written as text, so spellings vary.
 */
import { ID_LITERALS, IDS, KEYS, LITERALS, NESTED, NON_OBJECTS, NUMBERS, STRINGS, T0, TS, WS, clientTimes, corrupt, pick, q, sentAts, type Rng } from './fast-path-bodies.ts'

const H = 3_600_000
const TYPES = ['page', 'screen', 'group', 'alias', 'bogus', 'Track', 'tr\\u0061ck', 'p\\u0061ge']
const TYPE_VALUES = ['5', 'null', '{}']
const SENT_NAMES = ['Order Completed', '', 'a'.repeat(129), 'sp\\u0069n', 'é', 'a.b:c-d_e', '_x', '1abc']
const CONTEXTS = [
  '{"library":{"name":"@segment/analytics-node","version":"3.1.0"}}',
  '{"library":{"name":"analytics-node","version":"3.1.0"},"ip":"10.0.0.1"}',
  '{ "library" : { "name" : "x" } , "n" : 1.50, "e": 1e3 }',
  '{"page":{"path":"/a\\u00e9","url":"https://x.test/a?b=1"},"locale":"en-US","userAgent":"Mozilla/5.0"}',
  '{}',
  '{"a":{"b":{"c":{"d":{"e":1}}}}}',
  '{"a":{"b":{"c":{"d":{"e":{"f":1}}}}}}',
  '{"__proto__":1}',
  '{"k":"x","k":"y"}',
  '{"1":2,"b":3}',
  `{"big":"${'x'.repeat(9000)}"}`,
  // Longer than a whole event may be: one refused, one the general path takes (blanks are not counted).
  `{"big":"${'x'.repeat(33_000)}"}`,
  `{"a":1${' '.repeat(40_000)}}`,
  `{${Array.from({ length: 300 }, (_, i) => `"k${i}":1`).join(',')}}`,
  '[1]',
  '"text"',
  '5',
  'null',
]
const DELIVERY = [
  ['integrations', '{}'],
  ['_metadata', '{"nodeVersion":"v20.20.2","jsRuntime":"node"}'],
  ['receivedAt', q('2026-06-15T10:00:00Z')],
  ['writeKey', q('k')],
  ['version', '2'],
  ['channel', q('server')],
  ['library', q('x')],
  ['rudderId', q('r-1')],
] as const
const AWKWARD_DELIVERY = ['[1,{"a":[2,{"b":3}]}]', '{"a":"\\u00e9"}', '1e400', '[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]']
const TAKEN_KEYS = ['event', 'user_id', 'ts', 'tenant', 'context', 'received_at', 'original_event', 'original_ts', 'sent_at', 'anonymous_id', 'event_id']

function iso(ms: number): string {
  return q(new Date(ms).toISOString())
}

/** One message of a batch. `used`: messageIds sent so far; `pre`: ids the horizon already holds. */
function message(r: Rng, used: string[], pre: readonly string[], awkward: boolean, now: number): string {
  if (awkward && r() < 0.03) return pick(r, NON_OBJECTS)
  const odd = awkward && r() < 0.5
  const a = (p: number) => odd && r() < p
  const fields: Array<[string, string]> = []
  const x = r()
  const type = a(0.25) ? (r() < 0.8 ? q(pick(r, TYPES)) : pick(r, TYPE_VALUES)) : x < 0.7 ? q('track') : x < 0.85 ? q('identify') : x < 0.93 ? q('page') : q('screen')
  if (!a(0.05)) fields.push(['type', type])
  if (type === q('page') || type === q('screen')) {
    // A page's or screen's own name and category (analytics-node also copies them into its properties).
    if (r() < 0.8) fields.push(['name', a(0.3) ? pick(r, ['null', '5', '{"a":1}', q('Home'), q('é\\u00e9')]) : q(pick(r, ['Home', 'Shop', 'Main']))])
    if (r() < 0.5) fields.push(['category', a(0.3) ? pick(r, ['null', 'true', '[1]']) : q('Docs')])
  }
  // The copy analytics-node makes of a page's category in its properties: equal, or (odd) not.
  const copied = (type === q('page') || type === q('screen')) && r() < 0.4 ? `"category":${a(0.3) ? pick(r, [q('Other'), 'null', q('D\\u006fcs')]) : q('Docs')}` : null
  const purchase = r() < 0.2
  if (type !== q('identify') || a(0.1)) fields.push(['event', a(0.2) ? (r() < 0.8 ? q(pick(r, SENT_NAMES)) : pick(r, ['5', 'null'])) : q(purchase ? 'in_app_purchase' : 'spin')])
  const anonymous = r() < 0.2
  if (!anonymous || a(0.3)) fields.push(['userId', a(0.3) ? (r() < 0.5 ? pick(r, ID_LITERALS) : q(pick(r, IDS))) : r() < 0.15 ? String(Math.floor(r() * 1000)) : q(`u${Math.floor(r() * 50)}`)])
  if (anonymous || a(0.2)) fields.push(['anonymousId', a(0.3) ? (r() < 0.5 ? pick(r, ID_LITERALS) : q(pick(r, [...IDS, '']))) : q(`anon-${Math.floor(r() * 50)}`)])
  if (r() < 0.9) {
    let id: string
    const y = r()
    if (y < 0.04 && used.length > 0) id = q(pick(r, used))
    else if (y < 0.06) id = q(pick(r, pre))
    else if (a(0.2)) id = pick(r, [q(''), q('x'.repeat(257)), '5', 'null', q('é-id'), q('id\\u0041')])
    else {
      id = q(`node-next-${Math.floor(r() * 1e12)}`)
      used.push(id.slice(1, -1))
    }
    fields.push(['messageId', id])
  }
  // As RudderStack's SDK sends them: originalTimestamp, a sentAt on each message, channel "server".
  const rudder = !odd && r() < 0.3
  if (rudder) fields.push(['originalTimestamp', iso(now - 2000 - Math.floor(r() * H))], ['sentAt', iso(now - Math.floor(r() * 2 * H))], ['channel', q('server')])
  else if (!a(0.1)) fields.push(['timestamp', a(0.4) ? pick(r, [...TS, ...clientTimes(now)]) : iso(now - 2000 - Math.floor(r() * H))])
  if (a(0.15)) fields.push(['originalTimestamp', pick(r, [...TS, iso(now - 5000)])])
  if (a(0.08)) fields.push(['sentAt', pick(r, sentAts(now))])
  const bag = type === q('identify') ? 'traits' : 'properties'
  if (r() < 0.9) {
    const entries: string[] = []
    const count = Math.floor(r() * 5)
    for (let k = 0; k < count; k++) {
      const plain = purchase ? pick(r, ['amount', 'item', 'currency']) : pick(r, ['bet', 'machine', 'win', 'level'])
      const key = a(0.15) ? pick(r, [...KEYS, ...TAKEN_KEYS, 'name', 'category']) : odd ? plain : `${plain}_${k}`
      const z = r()
      const value =
        z < 0.35
          ? pick(r, STRINGS.slice(0, odd ? STRINGS.length : 3))
          : z < 0.8
            ? a(0.5)
              ? pick(r, NUMBERS)
              : String(Math.floor(r() * 100))
            : z < 0.92
              ? pick(r, LITERALS)
              : odd
                ? pick(r, NESTED)
                : '3'
      entries.push(`${q(key)}:${value}`)
    }
    if (copied !== null) entries.splice(Math.floor(r() * (entries.length + 1)), 0, copied)
    if (a(0.05)) for (let k = 0; k < 257; k++) entries.push(`"p${k}":1`)
    fields.push([a(0.05) ? (bag === 'traits' ? 'properties' : 'traits') : bag, a(0.05) ? pick(r, ['null', '[]', '5']) : `{${entries.join(',')}}`])
  }
  if (r() < 0.8) fields.push(['context', a(0.4) ? pick(r, CONTEXTS) : pick(r, CONTEXTS.slice(0, 2))])
  for (const [k, v] of DELIVERY) {
    if ((k !== 'channel' || !rudder) && r() < (k === 'integrations' || k === '_metadata' ? 0.7 : 0.1))
      fields.push([k, a(0.1) ? pick(r, AWKWARD_DELIVERY) : k === 'integrations' && r() < 0.3 ? '{"All":true,"Mixpanel":false}' : v])
  }
  if (a(0.08)) fields.push([pick(r, [...TAKEN_KEYS, '1x', '__proto__', 'ok']), pick(r, ['1', q('v'), '{"a":1}'])])
  if (a(0.06)) fields.push([pick(r, fields)[0], pick(r, ['1', q('dup'), 'null'])])
  if (a(0.03)) fields.push(['name', q('Home')], ['groupId', q('g1')], ['previousId', q('u1')], ['category', 'null'])
  for (let i = fields.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1))
    ;[fields[i], fields[j]] = [fields[j]!, fields[i]!]
  }
  const w = () => (odd ? pick(r, WS) : '')
  return `{${w()}${fields.map(([k, v]) => `${q(k)}${w()}:${w()}${v}`).join(`${w()},${w()}`)}${w()}}`
}

/**
 * A whole {"batch": [...]} body. Not `awkward`: messages as the SDKs send them. `awkward`: anything,
 * including bodies of other shapes, not JSON or not UTF-8. Times are made around `now` (default T0),
 * about when the body will be received.
 */
export function segmentBody(r: Rng, pre: readonly string[], options: { awkward: boolean; maxElements: number; now?: number }): Buffer {
  const now = options.now ?? T0
  const n = (options.awkward && r() < 0.03 ? 0 : 1) + Math.floor(r() * options.maxElements)
  const used: string[] = []
  const messages: string[] = []
  for (let i = 0; i < n; i++) messages.push(message(r, used, pre, options.awkward && r() < 0.5, now))
  const w = () => (options.awkward ? pick(r, WS) : '')
  const top: string[] = [`"batch":${w()}[${w()}${messages.join(`${w()},${w()}`)}${w()}]`]
  const sentAt = options.awkward && r() < 0.3 ? pick(r, sentAts(now)) : r() < 0.9 ? iso(now - Math.floor(r() * 3 * H) + Math.floor(r() * 2 * H)) : null
  if (sentAt !== null) top.push(`"sentAt":${sentAt}`)
  if (r() < 0.7) top.push(`"writeKey":${q('k')}`)
  if (options.awkward && r() < 0.1) top.push(pick(r, ['"context":{"x":1}', '"batch":[]', '"sentAt":null', '"x":tru', '"se\\u006etAt":1']))
  for (let i = top.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1))
    ;[top[i], top[j]] = [top[j]!, top[i]!]
  }
  let text = `${w()}{${w()}${top.join(`,${w()}`)}${w()}}${w()}`
  if (options.awkward && r() < 0.04) text = `[${messages.join(',')}]`
  if (r() < 0.03) text = `\ufeff${text}`
  let bytes: Buffer = Buffer.from(text)
  if (options.awkward && r() < 0.12) bytes = corrupt(r, bytes)
  return bytes
}
