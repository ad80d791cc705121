import { describe, expect, it } from 'vitest'
import { ValueProblem } from '../../src/config/config-error.ts'
import { durationMs, httpUrl, integer, listValues, nonEmpty, onOff, oneOf, port, positiveNumber, token, tokenList, type Parser } from '../../src/config/parsers.ts'

/** The problem a parser reports for `raw`, or null when it accepts it. */
function problem<T>(parse: Parser<T>, raw: string): string | null {
  try {
    parse(raw)
    return null
  } catch (err) {
    expect(err).toBeInstanceOf(ValueProblem)
    return (err as Error).message
  }
}

describe('integer', () => {
  const partitions = integer(1, 1024)

  it('takes whole numbers within its bounds, both ends included, spaces around ignored', () => {
    expect(['1', '8', '1024', ' 8 ', '\t16\n', '007'].map(partitions)).toEqual([1, 8, 1024, 8, 16, 7])
    expect(integer(0)('0')).toBe(0)
    expect(integer(-5, 5)('-5')).toBe(-5)
    expect(integer(1)(String(Number.MAX_SAFE_INTEGER))).toBe(Number.MAX_SAFE_INTEGER)
  })

  it.each(['0', '1025', '-1', '1.5', '1.0', '0x10', '1e3', '+5', '', ' ', 'abc', '8 8', '8abc', 'Infinity', 'NaN', '9007199254740993'])('refuses %j, naming the range', (raw) => {
    expect(problem(partitions, raw)).toBe('must be an integer from 1 to 1024')
  })

  it('says "at least" when there is no upper bound', () => {
    expect(problem(integer(1), '0')).toBe('must be an integer of at least 1')
    expect(problem(integer(0), '-1')).toBe('must be an integer of at least 0')
    expect(problem(integer(0), '1.5')).toBe('must be an integer of at least 0')
  })
})

describe('durationMs and port', () => {
  it('are integers with their unit in the message', () => {
    expect(durationMs(0)('0')).toBe(0)
    expect(durationMs(10)('10')).toBe(10)
    expect(problem(durationMs(10), '9')).toBe('must be a duration in milliseconds, an integer of at least 10')
    expect(problem(durationMs(1, 60_000), '60001')).toBe('must be a duration in milliseconds, an integer from 1 to 60000')
    for (const raw of ['1.5', '-1', '0x10', '1e3', '', ' ', '1s']) expect(problem(durationMs(0), raw), raw).toBe('must be a duration in milliseconds, an integer of at least 0')
  })

  it('takes ports 0 to 65535', () => {
    expect(['0', '8080', '65535'].map(port)).toEqual([0, 8080, 65535])
    for (const raw of ['65536', '-1', '1.5', '0x10', '1e3', '', ' ', 'http']) expect(problem(port, raw), raw).toBe('must be a port, an integer from 0 to 65535')
  })
})

describe('positiveNumber', () => {
  const hours = positiveNumber(1000)
  it('takes decimals in (0, max]', () => {
    expect(['1.5', '0.25', '1000', ' 3 '].map(hours)).toEqual([1.5, 0.25, 1000, 3])
  })
  it.each(['0', '1000.5', '-1', '1e3', '0x10', '', ' ', '.5', 'two'])('refuses %j', (raw) => {
    expect(problem(hours, raw)).toBe('must be a number in (0, 1000]')
  })
})

describe('oneOf and onOff', () => {
  it('takes exactly one of the names, and lists them all when refusing', () => {
    const format = oneOf(['table', 'csv', 'json'] as const)
    expect(format('csv')).toBe('csv')
    expect(format(' json ')).toBe('json')
    for (const raw of ['CSV', 'xml', '', ' ']) expect(problem(format, raw), raw).toBe('must be one of "table", "csv", "json"')
    expect(problem(oneOf(['time', 'random']), 'sorted')).toBe('must be "time" or "random"')
    expect(listValues(['a', 'b', 'c'])).toBe('one of "a", "b", "c"')
  })

  it('reads a switch as on/off, true/false or 1/0 in any case', () => {
    expect(['on', 'ON', ' true ', '1'].map(onOff)).toEqual([true, true, true, true])
    expect(['off', 'Off', 'FALSE', '0'].map(onOff)).toEqual([false, false, false, false])
    for (const raw of ['of', 'yes', '', ' ', '2']) expect(problem(onOff, raw), raw).toBe('must be "on" or "off" (or true/false, 1/0)')
  })
})

describe('text parsers', () => {
  it('takes http(s) URLs only', () => {
    expect(httpUrl('https://hooks.example.com/x')).toBe('https://hooks.example.com/x')
    expect(httpUrl(' http://127.0.0.1:8080 ')).toBe('http://127.0.0.1:8080')
    for (const raw of ['ftp://x', 'example.com', '', ' ', 'http//x']) expect(problem(httpUrl, raw), raw).toBe('must be an http:// or https:// URL')
  })

  it('refuses empty paths, ids with spaces, and lists with holes', () => {
    expect(nonEmpty('data')).toBe('data')
    expect(problem(nonEmpty, '')).toBe('must not be empty')
    expect(problem(nonEmpty, '  ')).toBe('must not be empty')
    expect(token(5)('w-7')).toBe('w-7')
    for (const raw of ['', 'two words', '123456']) expect(problem(token(5), raw), raw).toBe('must be 1 to 5 characters without spaces')
    expect(tokenList('an API key')('a, b,c')).toEqual(['a', 'b', 'c'])
    for (const raw of ['a,,b', '', 'a b', 'a,']) expect(problem(tokenList('an API key'), raw), raw).toBe('must be an API key or a comma-separated list of them')
  })
})
