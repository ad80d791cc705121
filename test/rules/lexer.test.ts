import { describe, expect, test } from 'vitest'
import { Lexer, type Token } from '../../src/rules/lexer.ts'
import { ruleError } from './helpers.ts'

function tokens(text: string): Token[] {
  const lx = new Lexer({ text })
  const out: Token[] = []
  for (;;) {
    const t = lx.next()
    out.push(t)
    if (t.kind === 'eof') return out
  }
}

const kinds = (text: string): string[] => tokens(text).map((t) => t.kind)

describe('lexer', () => {
  test('identifiers, keywords (any case), punctuation and offsets', () => {
    const ts = tokens('count(purchase WHERE item, 1d)')
    expect(ts.map((t) => [t.kind, t.text, t.start, t.end])).toEqual([
      ['ident', 'count', 0, 5],
      ['punct', '(', 5, 6],
      ['ident', 'purchase', 6, 14],
      ['keyword', 'WHERE', 15, 20],
      ['ident', 'item', 21, 25],
      ['punct', ',', 25, 26],
      ['duration', '1d', 27, 29],
      ['punct', ')', 29, 30],
      ['eof', '', 30, 30],
    ])
    expect(ts[3]).toMatchObject({ word: 'where' })
  })

  test('numbers: integer, decimal, negative', () => {
    expect(
      tokens('42 4.99 -5 -0.5')
        .slice(0, 4)
        .map((t) => (t.kind === 'number' ? t.value : null)),
    ).toEqual([42, 4.99, -5, -0.5])
  })

  test('durations become milliseconds', () => {
    expect(
      tokens('30s 5m 2h 7d')
        .slice(0, 4)
        .map((t) => (t.kind === 'duration' ? t.ms : null)),
    ).toEqual([30_000, 300_000, 7_200_000, 604_800_000])
  })

  test('number-like garbage is one bad token, with a hint where one helps', () => {
    const [bad] = tokens('1.5h')
    expect(bad).toMatchObject({ kind: 'bad', text: '1.5h', hint: 'durations are whole numbers: write 90m, not 1.5h' })
    expect(tokens('2x')[0]).toMatchObject({ kind: 'bad', text: '2x', hint: undefined })
  })

  test('operators, with == as =', () => {
    const ops = tokens('>= > <= < = == !=').filter((t) => t.kind === 'op')
    expect(ops.map((t) => (t.kind === 'op' ? t.op : ''))).toEqual(['>=', '>', '<=', '<', '=', '=', '!='])
  })

  test('strings in both quotes with escapes', () => {
    const values = tokens(String.raw`"a\"b" 'it\'s' "tab\there" "\u00e9\\" 'say "hi"'`)
      .filter((t) => t.kind === 'string')
      .map((t) => (t.kind === 'string' ? t.value : ''))
    expect(values).toEqual(['a"b', "it's", 'tab\there', 'é\\', 'say "hi"'])
  })

  test('whitespace of any kind separates tokens', () => {
    expect(kinds('a\n\tand\r\n b')).toEqual(['ident', 'keyword', 'ident', 'eof'])
  })

  test('unterminated string is reported at its opening quote', () => {
    const e = ruleError(() => tokens('item = "sword'))
    expect([e.line, e.column, e.detail]).toEqual([1, 8, 'unterminated string: missing closing "'])
  })

  test('unknown escape', () => {
    const e = ruleError(() => tokens(String.raw`"a\qb"`))
    expect([e.column, e.detail]).toEqual([3, String.raw`unknown escape "\q" in string`])
  })

  test.each([
    ['a && b', 3, 'unexpected character "&": use "and" instead of "&&"'],
    ['a || b', 3, 'unexpected character "|": use "or" instead of "||"'],
    ['!a', 1, 'unexpected character "!": use "not", or "!=" for not-equal'],
    ['a + 1', 3, 'unexpected character "+": arithmetic is not supported'],
    ['a @ 1', 3, 'unexpected character "@"'],
  ])('%s: unexpected character', (text, column, detail) => {
    const e = ruleError(() => tokens(text))
    expect([e.line, e.column, e.detail]).toEqual([1, column, detail])
  })
})
