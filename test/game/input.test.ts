import { describe, expect, it } from 'vitest'
import { GameError } from '../../src/game/errors.ts'
import { parseForm } from '../../src/game/form.ts'
import { parseAmount } from '../../src/game/input.ts'
import { isJoinKind, listPrice, LIST_PRICES } from '../../src/game/prices.ts'
import { parseBuy, parseJoin, parseLogin, parseRegister, refFromQuery } from '../../src/game/requests.ts'

/** The GameError `f()` throws, as plain fields. */
function refusal(f: () => unknown): { status: number; code: string; field: string | undefined; message: string } {
  try {
    f()
  } catch (err) {
    if (err instanceof GameError) return { status: err.status, code: err.code, field: err.field, message: err.message }
    throw err
  }
  throw new Error('expected a GameError')
}

describe('amounts', () => {
  it('accepts numbers and decimal strings, to the cent', () => {
    expect(parseAmount('cost', 30)).toBe(30)
    expect(parseAmount('cost', '4999')).toBe(4999)
    expect(parseAmount('cost', ' 12.5 ')).toBe(12.5)
    expect(parseAmount('cost', '0.29')).toBe(0.29)
    expect(parseAmount('cost', '1e3')).toBe(1000)
    expect(parseAmount('cost', 0)).toBe(0)
    expect(Object.is(parseAmount('cost', -0), 0)).toBe(true)
    expect(parseAmount('cost', 1e12)).toBe(1e12)
  })

  it.each([
    ['abc', 'cost must be a number, got "abc"'],
    ['', 'cost must be a number, got ""'],
    ['12abc', 'cost must be a number, got "12abc"'],
    [true, 'cost must be a number, got true'],
    [{ v: 1 }, 'cost must be a number, got {"v":1}'],
    [-5, 'cost must not be negative'],
    ['-5', 'cost must not be negative'],
    [Infinity, 'cost must be a finite number'],
    ['1e400', 'cost must be a finite number'],
    [Number.NaN, 'cost must be a finite number'],
    [1e12 + 1, 'cost must be at most 1000000000000'],
    [0.001, 'cost must have at most 2 decimal places'],
  ])('refuses %j', (value, message) => {
    expect(refusal(() => parseAmount('cost', value))).toEqual({ status: 400, code: 'invalid_field', field: 'cost', message })
  })
})

describe('list prices and kinds', () => {
  it('prices seed 002 items and nothing else', () => {
    for (const item of ['sword', 'shield', 'helmet', 'knife', 'gauntlet', 'spell', 'potion']) expect(listPrice(item)).toBeGreaterThan(0)
    expect(listPrice('cutlass')).toBeUndefined()
    expect(listPrice('toString')).toBeUndefined()
    expect(Object.isFrozen(LIST_PRICES)).toBe(true)
  })

  it('joins guilds and teams only', () => {
    expect(isJoinKind('guild')).toBe(true)
    expect(isJoinKind('team')).toBe(true)
    expect(isJoinKind('party')).toBe(false)
  })
})

describe('request parsing', () => {
  it('reads a registration, with seed 003 aliases and default wealth', () => {
    expect(parseRegister({ name: 'dirk', password: 'blahdh' })).toEqual({ name: 'dirk', password: 'blahdh', wealth: 1000 })
    expect(parseRegister({ userid: '987611', username: 'dirk', userpwd: 'blahdh', wealth: '12345' })).toEqual({ id: '987611', name: 'dirk', password: 'blahdh', wealth: 12345 })
    expect(parseRegister({ userid: 987611, name: 'dirk', password: 'blahdh' }).id).toBe('987611')
  })

  it.each([
    [{ password: 'blahdh' }, 'missing_field', 'name', 'name is required (or username)'],
    [{ name: 'dirk' }, 'missing_field', 'password', 'password is required (or userpwd)'],
    [{ name: 'dirk', password: 'abc' }, 'invalid_field', 'password', 'password must be 4 to 256 characters'],
    [{ name: 'dirk', password: 1234 }, 'invalid_field', 'password', 'password must be a string'],
    [{ name: 'x'.repeat(65), password: 'blahdh' }, 'invalid_field', 'name', 'name must be at most 64 characters'],
    [{ name: 'a\nb', password: 'blahdh' }, 'invalid_field', 'name', 'name must not contain control characters'],
    [{ name: ['a', 'b'], password: 'blahdh' }, 'invalid_field', 'name', 'name is given more than once'],
    [{ name: 'dirk', password: 'blahdh', userid: 'a b' }, 'invalid_field', 'id', 'id must be 1 to 64 letters, digits, _ . : -'],
    [{ name: 'dirk', password: 'blahdh', wealth: 'lots' }, 'invalid_field', 'wealth', 'wealth must be a number, got "lots"'],
  ])('refuses a registration %j', (body, code, field, message) => {
    expect(refusal(() => parseRegister(body))).toEqual({ status: 400, code, field, message })
  })

  it('refuses bodies that are not objects', () => {
    for (const body of [[1], 'text', 5]) expect(refusal(() => parseLogin(body)).code).toBe('invalid_body')
    expect(refusal(() => parseLogin(undefined)).code).toBe('missing_field')
  })

  it('names the player by id, by name, or by either', () => {
    expect(parseLogin({ name: 'dirk', password: 'pw12' }).player).toEqual({ by: 'name', value: 'dirk' })
    expect(parseBuy('sword', { userid: '1234', type: 'cutlass', cost: '5000' })).toEqual({ player: { by: 'id', value: '1234' }, kind: 'sword', type: 'cutlass', cost: 5000 })
    expect(parseBuy('sword', { player: 'dirk' }).player).toEqual({ by: 'id_or_name', value: 'dirk' })
    expect(refusal(() => parseBuy('sword', { cost: 5 }))).toMatchObject({ code: 'missing_field', field: 'player' })
    expect(refFromQuery({ name: 'dirk' })).toEqual({ by: 'name', value: 'dirk' })
    expect(refFromQuery({ userid: '42' })).toEqual({ by: 'id', value: '42' })
    expect(refusal(() => refFromQuery({}))).toMatchObject({ code: 'missing_field', field: 'name' })
  })

  it("defaults a purchase's type to its kind and its cost to the list price", () => {
    expect(parseBuy('knife', { player: 'p' })).toEqual({ player: { by: 'id_or_name', value: 'p' }, kind: 'knife', type: 'knife', cost: 20 })
    expect(parseBuy('knife', { player: 'p', cost: '' }).cost).toBe(20)
    expect(refusal(() => parseBuy('cutlass', { player: 'p' }))).toEqual({ status: 400, code: 'missing_field', field: 'cost', message: 'cost is required: "cutlass" has no list price' })
  })

  it('refuses bad item kinds', () => {
    for (const kind of ['Sword', 'sword1', '', 'x'.repeat(33), 'a-b', 'épée']) {
      expect(refusal(() => parseBuy(kind, { player: 'p', cost: 1 }))).toMatchObject({ status: 400, code: 'invalid_kind', field: 'kind' })
    }
    expect(parseBuy('x'.repeat(32), { player: 'p', cost: 1 }).kind).toHaveLength(32)
  })

  it('reads a join: org and level required, cost optional', () => {
    expect(parseJoin('guild', { player: 'p', org: 'soldiers', level: 'masterofarms', cost: '9999' })).toEqual({
      player: { by: 'id_or_name', value: 'p' },
      kind: 'guild',
      org: 'soldiers',
      level: 'masterofarms',
      cost: 9999,
    })
    expect(parseJoin('team', { player: 'p', org: 'team ABCD', level: 3 }).cost).toBe(0)
    expect(parseJoin('team', { player: 'p', org: 'team ABCD', level: 3 }).level).toBe('3')
    expect(refusal(() => parseJoin('guild', { player: 'p', level: 'x' }))).toMatchObject({ code: 'missing_field', field: 'org' })
    expect(refusal(() => parseJoin('guild', { player: 'p', org: 'x' }))).toMatchObject({ code: 'missing_field', field: 'level' })
    expect(refusal(() => parseJoin('party', { player: 'p', org: 'x', level: 'y' }))).toMatchObject({ status: 400, code: 'invalid_kind', field: 'kind' })
  })
})

describe('form bodies', () => {
  it('decodes fields, keeps repeats as arrays and __proto__ as data', () => {
    const form = parseForm('userid=987611&type=long+sword&cost=5%2C000&cost=1&__proto__=x&empty=')
    expect(Object.entries(form)).toEqual([
      ['userid', '987611'],
      ['type', 'long sword'],
      ['cost', ['5,000', '1']],
      ['__proto__', 'x'],
      ['empty', ''],
    ])
    expect(Object.getPrototypeOf(form)).toBeNull()
    expect(refusal(() => parseBuy('sword', form))).toMatchObject({ code: 'invalid_field', field: 'cost', message: 'cost is given more than once' })
  })
})
