import { describe, expect, test } from 'vitest'
import { compileMessage, compileRulesYaml, DEFAULT_STREAMS, effectiveStreams, parseRulesYaml } from '../../src/rules/index.ts'
import { parseTenantRules } from '../../src/engine/tenant-rules.ts'
import { ruleError } from './helpers.ts'

describe('the streams: section', () => {
  test('buy and social by default; the file redefines, adds and turns off', () => {
    expect(effectiveStreams(parseRulesYaml('segments: {}\n').streams).map((s) => [s.name, s.events])).toEqual([
      ['buy', ['purchase', 'in_app_purchase']],
      ['social', ['join_guild', 'join_team']],
    ])
    const def = parseRulesYaml(`
streams:
  buy: { events: [purchase, purchase, refund], description: money }
  social: { events: [] }
  all: { events: "*" }
  progress:
    events: [level_up]
`)
    expect(def.streams).toEqual([
      { name: 'buy', events: ['purchase', 'refund'], description: 'money' },
      { name: 'social', events: [], description: undefined },
      { name: 'all', events: '*', description: undefined },
      { name: 'progress', events: ['level_up'], description: undefined },
    ])
    expect(effectiveStreams(def.streams).map((s) => s.name)).toEqual(['buy', 'all', 'progress'])
    expect(DEFAULT_STREAMS.map((s) => s.name)).toEqual(['buy', 'social'])
  })

  test.each([
    [
      'a name that cannot be a topic',
      'streams:\n  Buy-Now: { events: [x] }\n',
      'streams.Buy-Now',
      'invalid stream name "Buy-Now": use lower-case letters, digits and _, starting with a letter, at most 40 characters',
    ],
    ['no events key', 'streams:\n  buy: { description: x }\n', 'streams.buy', 'missing "events": a list of event names, "*" for every event, or [] to turn the stream off'],
    ['events not a list', 'streams:\n  buy: { events: purchase }\n', 'streams.buy.events', 'events is a list of event names or "*", got string purchase'],
    ['a star inside a list', 'streams:\n  buy: { events: [a, "*"] }\n', 'streams.buy.events', 'each item of events is an event name (use events: "*" alone for every event)'],
    ['an unknown key', 'streams:\n  buy: { events: [a], topic: x }\n', 'streams.buy.topic', 'unknown key "topic"; expected one of "events", "description"'],
    ['not a map', 'streams: [buy]\n', 'streams', '"streams" must be a map from stream name to { events: [...] }'],
  ])('%s is refused at its place', (_name, source, path, detail) => {
    const e = ruleError(() => parseRulesYaml(source, 'rules.yaml'))
    expect(e.path).toBe(path)
    expect(e.detail).toBe(detail)
  })

  test('at most 20 streams', () => {
    const many = Array.from({ length: 21 }, (_, i) => `  s${i}: { events: [e${i}] }`).join('\n')
    expect(ruleError(() => parseRulesYaml(`streams:\n${many}\n`)).detail).toBe('at most 20 streams can be defined')
  })

  test('a tenant rule set may not define streams: they are logs of the server', () => {
    const e = ruleError(() => parseTenantRules('streams:\n  mine: { events: [x] }\n', { segments: [], triggers: [] }))
    expect(e.detail).toBe('streams are defined in the server rules file, not in a tenant rule set: each is a log of the server')
  })
})

describe('trigger messages', () => {
  test('a template reads the triggering event, {{ and }} are braces, anything not a scalar reads empty', () => {
    const m = compileMessage('You bought a {item} for {cost} ({meta.tier}) {{ok}} {missing}|{obj}')
    if (typeof m === 'string') throw new Error(m)
    expect(m({ item: 'sword', cost: 12.5, meta: { tier: 'gold' }, obj: { a: 1 } })).toBe('You bought a sword for 12.5 (gold) {ok} |')
  })

  test('a long property is cut to 2,000 characters', () => {
    const m = compileMessage('{x}')
    if (typeof m === 'string') throw new Error(m)
    const out = m({ x: 'a'.repeat(5_000) })
    expect(out.length).toBe(2_000)
    expect(out.endsWith('…')).toBe(true)
  })

  test.each([
    ['Hi {name', 'at character 4: "{" opens a property such as {item} or {cart.total} (write {{ for a brace)'],
    ['Hi {}', 'at character 4: "{" opens a property such as {item} or {cart.total} (write {{ for a brace)'],
    ['Hi }', 'at character 4: "}" closes nothing (write }} for a brace)'],
    ['x'.repeat(1_001), 'a message is at most 1000 characters, this one 1001'],
  ])('%s is refused', (template, problem) => {
    expect(compileMessage(template)).toBe(problem)
  })

  test('the rules file checks a message where it is written; the default is the description, then the name', () => {
    const e = ruleError(() => parseRulesYaml('triggers:\n  t:\n    on: x\n    emit: player\n    message: "Hi {"\n', 'rules.yaml'))
    expect({ path: e.path, line: e.line }).toEqual({ path: 'triggers.t.message', line: 5 })
    const rules = compileRulesYaml(`
triggers:
  a: { on: x, emit: player, message: "You got {n}" }
  b: { on: x, emit: player, description: "Braces {kept} as written" }
  c: { on: x }
`)
    expect(rules.triggers.map((t) => [t.name, t.emit, t.message({ n: 3 })])).toEqual([
      ['a', 'player', 'You got 3'],
      ['b', 'player', 'Braces {kept} as written'],
      ['c', 'notification', 'c'],
    ])
  })
})
