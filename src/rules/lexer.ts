import type { CompareOp } from './ast.ts'
import { parseDuration } from './duration.ts'
import { errorAt, quote, type ExprSource } from './errors.ts'

export type Keyword = 'and' | 'or' | 'not' | 'in' | 'where' | 'true' | 'false'

const KEYWORDS: ReadonlySet<string> = new Set<Keyword>(['and', 'or', 'not', 'in', 'where', 'true', 'false'])

export function isKeyword(word: string): boolean {
  return KEYWORDS.has(word.toLowerCase())
}

interface TokenBase {
  /** Source text of the token, used in messages. */
  readonly text: string
  readonly start: number
  readonly end: number
}

/**
 * `bad` is a number-like word that is neither a number nor a duration (`2x`, `1.5h`). It is a token,
 * not a lexer error, so the parser can say what it expected in that position.
 */
export type Token = TokenBase &
  (
    | { kind: 'ident' }
    | { kind: 'keyword'; word: Keyword }
    | { kind: 'number'; value: number }
    | { kind: 'duration'; ms: number }
    | { kind: 'string'; value: string }
    | { kind: 'op'; op: CompareOp }
    | { kind: 'punct'; ch: '(' | ')' | '[' | ']' | ',' | '.' }
    | { kind: 'bad'; hint: string | undefined }
    | { kind: 'eof' }
  )

const IDENT_START = /[A-Za-z_]/
const IDENT_PART = /[A-Za-z0-9_]/
const NUMBER_WORD = /[0-9][A-Za-z0-9_.]*/y
const PUNCT = '()[],.'
const ESCAPES: Readonly<Record<string, string>> = {
  '"': '"',
  "'": "'",
  '\\': '\\',
  '/': '/',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
}
/** Characters users reach for from other languages, with the spelling this language uses. */
const MISTAKES: Readonly<Record<string, string>> = {
  '&': 'use "and" instead of "&&"',
  '|': 'use "or" instead of "||"',
  '!': 'use "not", or "!=" for not-equal',
  '+': 'arithmetic is not supported',
  '*': 'arithmetic is not supported',
  '/': 'arithmetic is not supported',
  '-': 'arithmetic is not supported; a minus sign must touch its number, as in -5',
}

/**
 * Pull-based, one token of lookahead: tokens are produced only as the parser asks, so the first
 * error reported is the leftmost one, whether the lexer or the parser finds it.
 */
export class Lexer {
  private pos = 0
  private ahead: Token | null = null
  /** The last token consumed by next(); messages say "after" it. */
  previous: Token | null = null

  constructor(private readonly src: ExprSource) {}

  peek(): Token {
    this.ahead ??= this.scan()
    return this.ahead
  }

  next(): Token {
    const t = this.peek()
    this.ahead = null
    this.previous = t
    return t
  }

  private scan(): Token {
    const s = this.src.text
    while (this.pos < s.length && /\s/.test(s[this.pos] ?? '')) this.pos++
    const start = this.pos
    const c = s[start]
    if (c === undefined) return { kind: 'eof', text: '', start, end: start }
    if (IDENT_START.test(c)) {
      let end = start + 1
      while (end < s.length && IDENT_PART.test(s[end] ?? '')) end++
      this.pos = end
      const text = s.slice(start, end)
      const lower = text.toLowerCase()
      if (KEYWORDS.has(lower)) return { kind: 'keyword', word: lower as Keyword, text, start, end }
      return { kind: 'ident', text, start, end }
    }
    if (/[0-9]/.test(c) || (c === '-' && /[0-9]/.test(s[start + 1] ?? ''))) return this.numberWord(start)
    if (c === '"' || c === "'") return this.string(start, c)
    const op = this.operator(start)
    if (op) return op
    if (PUNCT.includes(c)) {
      this.pos = start + 1
      return { kind: 'punct', ch: c as '(' | ')' | '[' | ']' | ',' | '.', text: c, start, end: start + 1 }
    }
    const hint = MISTAKES[c]
    throw errorAt(this.src, start, `unexpected character ${quote(c)}${hint ? `: ${hint}` : ''}`, { got: quote(c) })
  }

  private numberWord(start: number): Token {
    const negative = this.src.text[start] === '-'
    NUMBER_WORD.lastIndex = negative ? start + 1 : start
    const word = NUMBER_WORD.exec(this.src.text)?.[0] ?? ''
    const end = NUMBER_WORD.lastIndex
    this.pos = end
    const text = this.src.text.slice(start, end)
    const sign = negative ? -1 : 1
    if (/^\d+(\.\d+)?$/.test(word)) return { kind: 'number', value: sign * Number(word), text, start, end }
    const d = parseDuration(word)
    if (d.ok) return { kind: 'duration', ms: sign * d.ms, text, start, end }
    return { kind: 'bad', hint: d.hint, text, start, end }
  }

  private string(start: number, q: '"' | "'"): Token {
    const s = this.src.text
    let value = ''
    let i = start + 1
    for (;;) {
      const c = s[i]
      if (c === undefined) throw errorAt(this.src, start, `unterminated string: missing closing ${q}`, { expected: q })
      if (c === q) break
      if (c !== '\\') {
        value += c
        i++
        continue
      }
      const e = s[i + 1] ?? ''
      const simple = ESCAPES[e]
      if (simple !== undefined) {
        value += simple
        i += 2
      } else if (e === 'u' && /^[0-9A-Fa-f]{4}$/.test(s.slice(i + 2, i + 6))) {
        value += String.fromCharCode(parseInt(s.slice(i + 2, i + 6), 16))
        i += 6
      } else {
        throw errorAt(this.src, i, `unknown escape ${quote(`\\${e}`)} in string`, { got: quote(`\\${e}`) })
      }
    }
    this.pos = i + 1
    return { kind: 'string', value, text: s.slice(start, i + 1), start, end: i + 1 }
  }

  private operator(start: number): Token | null {
    const two = this.src.text.slice(start, start + 2)
    const one = two.slice(0, 1)
    let op: CompareOp | null = null
    let len = 2
    if (two === '>=' || two === '<=' || two === '!=') op = two
    else if (two === '==') op = '='
    else if (one === '>' || one === '<' || one === '=') {
      op = one
      len = 1
    }
    if (op === null) return null
    this.pos = start + len
    return { kind: 'op', op, text: this.src.text.slice(start, start + len), start, end: start + len }
  }
}

export function describeToken(t: Token): string {
  return t.kind === 'eof' ? 'end of expression' : quote(t.text)
}
