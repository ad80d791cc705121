import { errorAt, quote, type ExprSource, type RuleError } from './errors.ts'
import { describeToken, Lexer, type Keyword, type Token } from './lexer.ts'
import type { TraitCatalog } from './traits.ts'

/**
 * Where identifiers resolve. In a segment's `when` a bare name is a trait; in a trigger's `when` a
 * known trait name is a trait and any other name a property of the triggering event.
 */
export type ExprContext = 'segment' | 'trigger'

export type PunctChar = '(' | ')' | '[' | ']' | ',' | '.'

export function isPunct(t: Token, ch: PunctChar): boolean {
  return t.kind === 'punct' && t.ch === ch
}

export function isWord(t: Token, word: Keyword): t is Token & { kind: 'keyword'; word: Keyword } {
  return t.kind === 'keyword' && t.word === word
}

/** Parser state shared by the grammar files: the token stream, the source, and the scope. */
export class Cursor {
  readonly lx: Lexer
  /** True inside `where`: names are fields of the aggregated event, calls are not allowed. */
  inFilter = false
  depth = 0

  constructor(
    readonly src: ExprSource,
    readonly context: ExprContext,
    /** The traits bare names resolve to: the built-ins and the rules file's declared ones. */
    readonly traits: TraitCatalog,
  ) {
    this.lx = new Lexer(src)
  }

  peek(): Token {
    return this.lx.peek()
  }

  next(): Token {
    return this.lx.next()
  }

  /** End offset of the last consumed token. */
  get lastEnd(): number {
    return this.lx.previous?.end ?? 0
  }

  /** `expected X after "Y", got "Z"`; call before consuming `got` so "after" names its predecessor. */
  expected(got: Token, what: string, hint?: string): RuleError {
    const prev = this.lx.previous
    const after = prev ? ` after ${quote(prev.text)}` : ''
    const tail = hint ? ` (${hint})` : ''
    return errorAt(this.src, got.start, `expected ${what}${after}, got ${describeToken(got)}${tail}`, {
      expected: what,
      got: describeToken(got),
    })
  }

  fail(at: Token, detail: string, expected?: string): RuleError {
    const extra = expected === undefined ? { got: describeToken(at) } : { got: describeToken(at), expected }
    return errorAt(this.src, at.start, detail, extra)
  }

  expectPunct(ch: PunctChar, what: string = quote(ch)): Token {
    const t = this.peek()
    if (!isPunct(t, ch)) throw this.expected(t, what)
    return this.next()
  }
}
