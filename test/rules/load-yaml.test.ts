import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, test } from 'vitest'
import { loadRulesFile, parseRulesYaml, printExpr } from '../../src/rules/index.ts'
import { ruleError } from './helpers.ts'

/** The error as [path, line, column], plus the text the caret points at in the file. */
function locate(source: string): { path: string | undefined; line: number; column: number; at: string; message: string } {
  const e = ruleError(() => parseRulesYaml(source, 'rules.yaml'))
  expect(e.file).toBe('rules.yaml')
  const at = (source.split('\n')[e.line - 1] ?? '').slice(e.column - 1)
  return { path: e.path, line: e.line, column: e.column, at, message: e.message }
}

describe('parseRulesYaml', () => {
  test('segments and triggers with defaults', () => {
    const def = parseRulesYaml(`
segments:
  high_roller:
    when: count(spin, 2h) >= 200 and sum(in_app_purchase.amount, 2h) > 10
    keep: 3m
    description: heavy spenders
  lapsed_buyer:
    when: sum(purchase.amount) > 0 and since(last_seen) > 7d
triggers:
  cart_push:
    on: add_to_cart
    when: cart_amount > 50   # a comment is not part of the expression
    emit: notification
  welcome:
    on: "sign up"
`)
    expect(def.segments.map((s) => [s.name, s.keepMs, s.text, s.description])).toEqual([
      ['high_roller', 180_000, 'count(spin, 2h) >= 200 and sum(in_app_purchase.amount, 2h) > 10', 'heavy spenders'],
      ['lapsed_buyer', 0, 'sum(purchase.amount) > 0 and since(last_seen) > 7d', undefined],
    ])
    expect(def.triggers.map((t) => [t.name, t.on, t.text, t.emit])).toEqual([
      ['cart_push', 'add_to_cart', 'cart_amount > 50', 'notification'],
      ['welcome', 'sign up', null, 'notification'],
    ])
    expect(def.triggers[0]?.when && printExpr(def.triggers[0].when)).toBe('cart_amount > 50')
  })

  test('empty file, empty sections and JSON are fine', () => {
    expect(parseRulesYaml('')).toEqual({ segments: [], triggers: [] })
    expect(parseRulesYaml('# nothing yet\nsegments:\ntriggers:\n')).toEqual({ segments: [], triggers: [] })
    expect(parseRulesYaml('{"segments": {"a": {"when": "is_new", "keep": "1m"}}}').segments[0]).toMatchObject({ name: 'a', keepMs: 60_000 })
  })

  test('block and quoted scalars parse like plain ones', () => {
    const def = parseRulesYaml(`
segments:
  folded:
    when: >-
      count(spin, 2h) >= 200
      and is_new
  literal:
    when: |
      count(spin, 2h) >= 200
        and is_new
  double:
    when: "count(spin, 2h) >= 200 and country = \\"TR\\""
  single:
    when: 'country = ''TR'''
`)
    expect(def.segments.map((s) => printExpr(s.when))).toEqual([
      'count(spin, 2h) >= 200 and is_new',
      'count(spin, 2h) >= 200 and is_new',
      'count(spin, 2h) >= 200 and country = "TR"',
      'country = "TR"',
    ])
  })
})

describe('expression errors are positioned in the file', () => {
  test('plain scalar: the example from the design', () => {
    const e = ruleError(() => parseRulesYaml('segments:\n  high_roller:\n    when: count(spin, 2h) >= 200 and sum(in_app_purchase.amount, 2x) > 10\n', 'r.yaml'))
    expect(e.message).toBe('segments.high_roller.when: line 3, column 66: expected a duration like 2h after ",", got "2x"')
    expect(e).toMatchObject({ line: 3, column: 66, segment: 'high_roller', path: 'segments.high_roller.when', expected: 'a duration like 2h', got: '"2x"', file: 'r.yaml' })
  })

  test('folded block: later lines', () => {
    const r = locate('segments:\n  b:\n    when: >-\n      count(spin, 2h) >= 200\n      and sum(x.y, 1h) > 1 and\n      contry = "TR"\n')
    expect(r).toMatchObject({ path: 'segments.b.when', line: 6, column: 7 })
    expect(r.at).toBe('contry = "TR"')
  })

  test('literal block with extra indentation', () => {
    const r = locate('segments:\n  b:\n    when: |\n      count(spin, 2h) >= 200\n        and sum(x, 1h) > 1\n')
    expect(r).toMatchObject({ line: 5, column: 17 })
    expect(r.at).toBe('x, 1h) > 1')
  })

  test('multi-line plain scalar, error at the end of the expression', () => {
    const r = locate('segments:\n  s:\n    when: count(x) > 1 and\n      count(y) >\n')
    expect(r).toMatchObject({ line: 4, column: 17 })
    expect(r.message).toBe('segments.s.when: line 4, column 17: expected a value after ">", got end of expression')
  })

  test('double-quoted with escapes before the error', () => {
    const r = locate('segments:\n  q:\n    when: "count(\\"spin\\", 2h) >= 200 and \\t bad(x)"\n')
    expect(r).toMatchObject({ line: 3, column: 46 })
    expect(r.at.startsWith('bad(x)')).toBe(true)
  })

  test("single-quoted with '' before the error", () => {
    const r = locate("segments:\n  s:\n    when: 'count(''a b'') > 1 and sum(x)'\n")
    expect(r).toMatchObject({ line: 3, column: 39 })
    expect(r.at.startsWith('x)')).toBe(true)
  })

  test('flow map', () => {
    const r = locate('segments: { s: { when: "count(spin) >>" } }\n')
    expect(r).toMatchObject({ line: 1, column: 38 })
    expect(r.at.startsWith('>" }')).toBe(true)
  })

  test('unterminated string, trailing garbage, unknown trait in a trigger filter', () => {
    expect(locate('segments:\n  s:\n    when: country = "TR\n')).toMatchObject({ line: 3, column: 21 })
    expect(locate('segments:\n  s:\n    when: is_new foo\n')).toMatchObject({ line: 3, column: 18 })
    const r = locate('triggers:\n  t:\n    on: x\n    when: count(x where a = 1, 1d) > 0 and since(seen) > 1d\n')
    expect(r).toMatchObject({ path: 'triggers.t.when', line: 4, column: 50 })
    expect(r.at.startsWith('seen)')).toBe(true)
  })
})

describe('structural errors are positioned in the file', () => {
  test.each<[string, string, string | undefined, number, number, string]>([
    ['invalid YAML', 'segments:\n  s:\n   when: x\n  when: x\n    y: 1\n', undefined, 4, 9, 'invalid YAML: Nested mappings are not allowed in compact mappings'],
    ['duplicate key', 'segments:\n  s:\n    when: is_new\n  s:\n    when: is_new\n', undefined, 4, 3, 'invalid YAML: Map keys must be unique'],
    ['root not a map', '- a\n- b\n', undefined, 1, 1, 'the rules file must be a map with "segments", "triggers" and/or "traits"'],
    ['complex key', '? [a]\n: b\n', undefined, 1, 3, 'keys must be plain names'],
    ['null key in a segment', 'segments:\n  s:\n    ~: x\n', 'segments.s', 3, 5, 'keys must be plain names'],
    ['unknown top-level key', 'segmnets: {}\n', 'segmnets', 1, 1, 'unknown key "segmnets" (did you mean "segments"?); expected one of "traits", "streams", "segments", "triggers"'],
    ['segments not a map', 'segments: [a, b]\n', 'segments', 1, 11, '"segments" must be a map from name to definition'],
    ['triggers not a map', 'triggers: cart\n', 'triggers', 1, 11, '"triggers" must be a map from name to definition'],
    ['segment not a map', 'segments:\n  s: is_new\n', 'segments.s', 2, 6, 'a segment must be a map with "when" and optionally "keep"'],
    [
      'bad segment name',
      'segments:\n  "high roller":\n    when: is_new\n',
      'segments.high roller',
      2,
      3,
      'invalid segment name "high roller": use letters, digits and _ . : -, starting with a letter or _ (not __proto__)',
    ],
    ['when missing', 'segments:\n  s:\n    keep: 3m\n', 'segments.s', 2, 3, 'missing "when": the condition for being in the segment'],
    ['when empty', 'segments:\n  s:\n    when:\n', 'segments.s.when', 3, 5, '"when" is empty; write a condition such as count(spin, 1h) > 0'],
    ['when not a string', 'segments:\n  s:\n    when: 5\n', 'segments.s.when', 3, 11, '"when" must be a string, got number 5; quote it if needed'],
    ['when a list', 'segments:\n  s:\n    when: [a]\n', 'segments.s.when', 3, 11, '"when" must be a string, got a list; quote it if needed'],
    [
      'unknown key in a segment',
      'segments:\n  s:\n    when: is_new\n    kepp: 3m\n',
      'segments.s.kepp',
      4,
      5,
      'unknown key "kepp" (did you mean "keep"?); expected one of "when", "keep", "description"',
    ],
    ['keep without unit', 'segments:\n  s:\n    when: is_new\n    keep: 3\n', 'segments.s.keep', 4, 11, 'expected a duration like 3m, got "3" (add a unit: s, m, h or d)'],
    ['keep bad unit', 'segments:\n  s:\n    when: is_new\n    keep: 3x\n', 'segments.s.keep', 4, 11, 'expected a duration like 3m, got "3x"'],
    ['keep decimal', 'segments:\n  s:\n    when: is_new\n    keep: 1.5m\n', 'segments.s.keep', 4, 11, 'expected a duration like 3m, got "1.5m" (durations are whole numbers: write 90m, not 1.5h)'],
    ['trigger without on', 'triggers:\n  t:\n    emit: notification\n', 'triggers.t', 2, 3, 'missing "on": the event name that fires the trigger'],
    ['trigger on empty', 'triggers:\n  t:\n    on: ""\n', 'triggers.t', 3, 5, 'missing "on": the event name that fires the trigger'],
    ['trigger on not a string', 'triggers:\n  t:\n    on: [a]\n', 'triggers.t.on', 3, 9, 'expected a string, got a list'],
    [
      'unknown key in a trigger',
      'triggers:\n  t:\n    on: x\n    emitt: y\n',
      'triggers.t.emitt',
      4,
      5,
      'unknown key "emitt" (did you mean "emit"?); expected one of "on", "when", "emit", "message", "description"',
    ],
    ['bad emit', 'triggers:\n  t:\n    on: x\n    emit: "a b"\n', 'triggers.t.emit', 4, 11, 'invalid emit target "a b"'],
  ])('%s', (_name, source, path, line, column, detail) => {
    const e = ruleError(() => parseRulesYaml(source, 'rules.yaml'))
    expect({ path: e.path, line: e.line, column: e.column }).toEqual({ path, line, column })
    expect(e.detail).toBe(detail)
    expect(e.message).toBe(`${path === undefined ? '' : `${path}: `}line ${line}, column ${column}: ${detail}`)
  })

  test('errors inside a segment name it, errors inside a trigger name the trigger', () => {
    expect(ruleError(() => parseRulesYaml('segments:\n  s:\n    kepp: 1m\n'))).toMatchObject({ path: 'segments.s.kepp' })
    expect(ruleError(() => parseRulesYaml('segments:\n  s:\n    keep: 1\n    when: is_new\n'))).toMatchObject({ segment: 's' })
    expect(ruleError(() => parseRulesYaml('triggers:\n  t:\n    when: x\n'))).toMatchObject({ trigger: 't' })
  })
})

describe('loadRulesFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tagstream-rules-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  test('reads, parses and compiles; errors carry the file name', () => {
    const good = join(dir, 'good.yaml')
    writeFileSync(good, 'segments:\n  s:\n    when: count(spin, 1h) > 3\n')
    expect(loadRulesFile(good).metrics.map((m) => m.key)).toEqual(['count(spin, 1h)'])

    const bad = join(dir, 'bad.yaml')
    writeFileSync(bad, 'segments:\n  s:\n    when: count(spin, 1h) >\n')
    expect(ruleError(() => loadRulesFile(bad))).toMatchObject({ file: bad, line: 3, column: 28 })
  })
})
