/*
 * Where is a JSON text wrong? V8's JSON.parse says "Unexpected token ',' … is not valid JSON" without
 * a position for many errors, and quotes the text itself. This scanner runs only after JSON.parse has
 * failed, walks the text once without recursion (a body may nest 100,000 levels deep) and names the
 * first offending character: position, line, column and what was expected there.
 */

export interface JsonErrorLocation {
  /** Offset in the text, in UTF-16 code units (characters for nearly all JSON). */
  position: number
  /** 1-based. */
  line: number
  /** 1-based. */
  column: number
  reason: string
}

const enum Expect {
  Value,
  ValueOrClose,
  Key,
  KeyOrClose,
  Colon,
  After,
}

const ARRAY = 0
const OBJECT = 1

export function locateJsonError(s: string): JsonErrorLocation {
  const stack: number[] = []
  let state: Expect = Expect.Value
  const n = s.length
  let i = 0
  for (;;) {
    while (i < n) {
      const c = s.charCodeAt(i)
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++
      else break
    }
    if (i >= n) {
      if (state === Expect.After && stack.length === 0) return at(s, n, 'no error found')
      return at(s, n, `unexpected end of input (expected ${expected(state, stack)})`)
    }
    const c = s.charCodeAt(i)
    switch (state) {
      case Expect.Value:
      case Expect.ValueOrClose: {
        if (c === 0x5d && state === Expect.ValueOrClose) {
          stack.pop()
          i++
          state = Expect.After
          break
        }
        if (c === 0x5b || c === 0x7b) {
          stack.push(c === 0x5b ? ARRAY : OBJECT)
          i++
          state = c === 0x5b ? Expect.ValueOrClose : Expect.KeyOrClose
          break
        }
        const end = scanScalar(s, i)
        if (end < 0) return scalarError(s, i, -end - 1)
        i = end
        state = Expect.After
        break
      }
      case Expect.Key:
      case Expect.KeyOrClose: {
        if (c === 0x7d && state === Expect.KeyOrClose) {
          stack.pop()
          i++
          state = Expect.After
          break
        }
        if (c !== 0x22) return at(s, i, `unexpected ${show(s, i)} (expected a property name in double quotes${state === Expect.KeyOrClose ? " or '}'" : ''})`)
        const end = scanString(s, i)
        if (end < 0) return scalarError(s, i, -end - 1)
        i = end
        state = Expect.Colon
        break
      }
      case Expect.Colon:
        if (c !== 0x3a) return at(s, i, `unexpected ${show(s, i)} (expected ':' after a property name)`)
        i++
        state = Expect.Value
        break
      case Expect.After: {
        const top = stack[stack.length - 1]
        if (top === undefined) return at(s, i, `unexpected ${show(s, i)} after the end of the JSON value`)
        if (c === 0x2c) {
          i++
          state = top === ARRAY ? Expect.Value : Expect.Key
        } else if ((c === 0x5d && top === ARRAY) || (c === 0x7d && top === OBJECT)) {
          stack.pop()
          i++
        } else return at(s, i, `unexpected ${show(s, i)} (expected ',' or '${top === ARRAY ? ']' : '}'}')`)
        break
      }
    }
  }
}

function expected(state: Expect, stack: number[]): string {
  switch (state) {
    case Expect.Value:
      return 'a value'
    case Expect.ValueOrClose:
      return "a value or ']'"
    case Expect.Key:
      return 'a property name'
    case Expect.KeyOrClose:
      return "a property name or '}'"
    case Expect.Colon:
      return "':'"
    case Expect.After:
      return stack[stack.length - 1] === ARRAY ? "',' or ']'" : "',' or '}'"
  }
}

/** End of the scalar at i, or -(position of the error) - 1. */
function scanScalar(s: string, i: number): number {
  const c = s.charCodeAt(i)
  if (c === 0x22) return scanString(s, i)
  if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return scanNumber(s, i)
  for (const word of ['true', 'false', 'null']) {
    if (c === word.charCodeAt(0)) {
      for (let k = 1; k < word.length; k++) if (s.charCodeAt(i + k) !== word.charCodeAt(k)) return -(i + k) - 1
      return i + word.length
    }
  }
  return -i - 1
}

function scanString(s: string, i: number): number {
  const n = s.length
  let j = i + 1
  while (j < n) {
    const c = s.charCodeAt(j)
    if (c === 0x22) return j + 1
    if (c < 0x20) return -j - 1
    if (c === 0x5c) {
      const e = s.charCodeAt(j + 1)
      if (e === 0x75) {
        for (let k = 2; k < 6; k++) if (!/[0-9a-fA-F]/.test(s.charAt(j + k))) return -(j + k) - 1
        j += 6
        continue
      }
      if (e !== 0x22 && e !== 0x5c && e !== 0x2f && e !== 0x62 && e !== 0x66 && e !== 0x6e && e !== 0x72 && e !== 0x74) return -(j + 1) - 1
      j += 2
      continue
    }
    j++
  }
  return -n - 1
}

function scanNumber(s: string, i: number): number {
  let j = i
  if (s.charCodeAt(j) === 0x2d) j++
  if (s.charCodeAt(j) === 0x30) j++
  else {
    const k = digitsEnd(s, j)
    if (k === j) return -j - 1
    j = k
  }
  if (s.charCodeAt(j) === 0x2e) {
    const k = digitsEnd(s, j + 1)
    if (k === j + 1) return -(j + 1) - 1
    j = k
  }
  const e = s.charCodeAt(j)
  if (e === 0x65 || e === 0x45) {
    j++
    const sign = s.charCodeAt(j)
    if (sign === 0x2b || sign === 0x2d) j++
    const k = digitsEnd(s, j)
    if (k === j) return -j - 1
    j = k
  }
  return j
}

function digitsEnd(s: string, from: number): number {
  let k = from
  while (k < s.length && s.charCodeAt(k) >= 0x30 && s.charCodeAt(k) <= 0x39) k++
  return k
}

function scalarError(s: string, start: number, pos: number): JsonErrorLocation {
  const c = s.charCodeAt(start)
  if (c === 0x22) {
    if (pos >= s.length) return at(s, pos, 'unterminated string')
    const bad = s.charCodeAt(pos)
    if (bad < 0x20) return at(s, pos, 'control character in a string (escape it)')
    return at(s, pos, `bad escape sequence ${show(s, pos)} in a string`)
  }
  if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return at(s, pos, pos >= s.length ? 'unexpected end of input in a number' : `unexpected ${show(s, pos)} in a number`)
  if (pos === start) return at(s, pos, `unexpected ${show(s, pos)} (expected a value: object, array, string, number, true, false or null)`)
  return at(s, pos, pos >= s.length ? 'unexpected end of input' : `unexpected ${show(s, pos)} in a literal (true, false or null)`)
}

function show(s: string, i: number): string {
  if (i >= s.length) return 'end of input'
  const c = s.codePointAt(i)!
  if (c < 0x20 || c === 0x7f) return `control character U+${c.toString(16).padStart(4, '0')}`
  return `'${String.fromCodePoint(c)}'`
}

function at(s: string, position: number, reason: string): JsonErrorLocation {
  let line = 1
  let lineStart = 0
  for (let nl = s.indexOf('\n'); nl !== -1 && nl < position; nl = s.indexOf('\n', nl + 1)) {
    line++
    lineStart = nl + 1
  }
  return { position, line, column: position - lineStart + 1, reason }
}
