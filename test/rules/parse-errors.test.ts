import { describe, expect, test } from 'vitest'
import { KNOWN_TRAITS, parseExpression } from '../../src/rules/index.ts'
import { ruleError } from './helpers.ts'

/** [expression, column, message detail] — all on line 1 of a bare expression. */
const CASES: Array<[string, number, string]> = [
  ['count(spin, 2x) >= 200', 13, 'expected a duration like 2h after ",", got "2x"'],
  ['count(spin, 1.5h) > 1', 13, 'expected a duration like 2h after ",", got "1.5h" (durations are whole numbers: write 90m, not 1.5h)'],
  ['count(spin, 1h30m) > 1', 13, 'expected a duration like 2h after ",", got "1h30m" (use a single unit: write 90m, not 1h30m)'],
  ['count(spin, 120) > 1', 13, 'expected a duration like 2h after ",", got "120" (add a unit: s, m, h or d)'],
  ['count(spin, 0s) > 1', 13, 'a window must be longer than zero, got "0s"'],
  ['count(spin, -1h) > 1', 13, 'a window must be longer than zero, got "-1h"'],
  ['count(spin, ) > 1', 13, 'expected a duration like 2h after ",", got ")"'],
  ['median(spin.x) > 1', 1, 'unknown function "median"; expected one of count, sum, min, max, avg, distinct, since'],
  ['sum(spin) > 1', 5, 'sum() needs an event field, e.g. sum(spin.amount), got "spin"'],
  ['avg(spin, 1h) > 1', 5, 'avg() needs an event field, e.g. avg(spin.amount), got "spin"'],
  ['count(spin.amount) > 1', 7, 'count() counts events and takes no field, got "spin.amount"; write count(spin), or sum(spin.amount) to add up the field'],
  ['count() > 1', 7, 'expected an event name after "(", got ")"'],
  ['count("") > 1', 7, 'an event name cannot be empty'],
  ['count(spin 2h) > 1', 12, 'expected "where", "," or ")" after "spin", got "2h"'],
  ['count(spin, 2h > 1', 16, 'expected ")" after "2h", got ">"'],
  ['count(p where a = 1 b) > 1', 21, 'expected "and", "or", "," or ")" after "1", got "b"'],
  ['count(p where count(q) > 1) > 1', 15, 'count() cannot be used inside a filter: a filter tests the properties of one event'],
  ['count(spin.) > 1', 12, 'expected a field name after ".", got ")"'],
  ['count > 1', 1, `unknown trait "count"; known traits: ${KNOWN_TRAITS.join(', ')} (declare others under "traits:" in the rules file)`],
  ['since(country) > 1d', 7, 'since() takes a timestamp trait (first_seen or last_seen or predicted.scored_at), got "country"'],
  ['since(seen) > 1d', 7, `unknown trait "seen"; known traits: ${KNOWN_TRAITS.join(', ')} (declare others under "traits:" in the rules file)`],
  ['since("last_seen") > 1d', 7, 'expected a trait name such as last_seen after "(", got \'"last_seen"\''],
  ['since(last_seen > 1d', 17, 'expected ")" after "last_seen", got ">"'],
  ['contry = "TR"', 1, `unknown trait "contry"; known traits: ${KNOWN_TRAITS.join(', ')} (declare others under "traits:" in the rules file)`],
  ['purchase.amount > 3', 1, '"purchase.amount" is not a trait; event fields can only be used inside an aggregate, e.g. sum(purchase.amount)'],
  ['country = "TR', 11, 'unterminated string: missing closing "'],
  ["country = 'TR", 11, "unterminated string: missing closing '"],
  ['count(spin) > 3 foo', 17, 'expected "and", "or" or end of expression after "3", got "foo"'],
  ['count(spin) > 3)', 16, 'expected "and", "or" or end of expression after "3", got ")"'],
  ['(count(spin) > 3', 17, 'expected "and", "or" or ")" after "3", got end of expression'],
  ['count(spin) >', 14, 'expected a value after ">", got end of expression'],
  ['count(spin) > 2x', 15, 'expected a value after ">", got "2x"'],
  ['', 1, 'expected a condition, got end of expression'],
  ['is_new and', 11, 'expected a condition after "and", got end of expression'],
  ['not', 4, 'expected a condition after "not", got end of expression'],
  ['count(spin) > 1 > 2', 17, 'comparisons cannot be chained; combine them with "and"'],
  ['count(spin, 1h)', 1, '"count(spin, 1h)" is a number, not a condition; compare it, as in count(spin, 1h) > 0'],
  ['since(last_seen)', 1, '"since(last_seen)" is a number, not a condition; compare it, as in since(last_seen) > 0'],
  ['country', 1, '"country" is a string trait, not a condition; compare it, as in country = "..."'],
  ['first_seen and is_new', 1, '"first_seen" is a timestamp trait, not a condition; compare it, as in since(first_seen) > 7d'],
  ['"TR"', 1, '\'"TR"\' is a string, not a condition; compare it, as in country = "TR"'],
  ['(is_new or is_new) = true', 2, 'a condition cannot be an operand of "="; combine conditions with "and", "or" and "not"'],
  ['country in "TR"', 12, 'expected a list like ["TR", "DE"] after "in", got \'"TR"\''],
  ['country not is ["TR"]', 13, 'expected "in" after "not", got "is"'],
  ['country in ["TR" "DE"]', 18, 'expected "," or "]" after \'"TR"\', got \'"DE"\''],
  ['country in [country]', 13, 'expected a literal value or "]" after "[", got "country"'],
  ['country = ["TR"]', 11, 'a list is only allowed after "in"'],
  ['count(spin) && is_new', 13, 'unexpected character "&": use "and" instead of "&&"'],
  ['count(spin) + 1 > 2', 13, 'unexpected character "+": arithmetic is not supported'],
  ['count(spin) - 1 > 2', 13, 'unexpected character "-": arithmetic is not supported; a minus sign must touch its number, as in -5'],
]

describe('parse errors: exact position and message', () => {
  test.each(CASES)('%s', (text, column, detail) => {
    const e = ruleError(() => parseExpression(text))
    expect({ line: e.line, column: e.column }).toEqual({ line: 1, column })
    expect(e.detail).toBe(detail)
    expect(e.message).toBe(`line 1, column ${column}: ${e.detail}`)
  })

  test('expected and got are separate fields', () => {
    const e = ruleError(() => parseExpression('count(spin, 2h > 1'))
    expect(e.expected).toBe('")"')
    expect(e.got).toBe('">"')
    expect(e.segment).toBeUndefined()
    expect(e.path).toBeUndefined()
  })

  test('positions count lines within a multi-line expression', () => {
    const e = ruleError(() => parseExpression('count(spin, 2h) >= 200\n  and sum(purchase, 1h) > 1'))
    expect([e.line, e.column]).toEqual([2, 11])
  })

  test('the leftmost error wins, even when the lexer finds a later one', () => {
    const e = ruleError(() => parseExpression('count(spin, 2x) > "unterminated'))
    expect(e.column).toBe(13)
  })

  test('pathological nesting is refused, not a stack overflow', () => {
    const e = ruleError(() => parseExpression(`${'('.repeat(200)}is_new${')'.repeat(200)}`))
    expect(e.detail).toBe('expression nested more than 100 levels deep')
    expect(e.column).toBe(101)
  })

  test('property references are refused in a segment but fine in a trigger', () => {
    expect(() => parseExpression('cart_amount > 50', 'trigger')).not.toThrow()
    expect(ruleError(() => parseExpression('cart_amount > 50')).detail).toMatch(/^unknown trait "cart_amount"/)
  })
})
