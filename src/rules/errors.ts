/** A 1-based position, in the YAML file when the rules came from one, else in the expression text. */
export interface Position {
  line: number
  column: number
}

/**
 * Where an expression came from. Every stage (lexer, parser, compiler) reports through it, so an
 * error found while compiling still names the line and column the user typed in the rules file.
 */
export interface ExprSource {
  readonly text: string
  /** Dotted location in the rules file, e.g. `segments.high_roller.when`. */
  readonly path?: string | undefined
  readonly segment?: string | undefined
  readonly trigger?: string | undefined
  readonly file?: string | undefined
  /** Maps an offset in `text` to a file position; without it positions are within `text`. */
  readonly locate?: ((offset: number) => Position) | undefined
}

export interface RuleErrorInit {
  /** The message without its location prefix. */
  detail: string
  line: number
  column: number
  path?: string | undefined
  segment?: string | undefined
  trigger?: string | undefined
  file?: string | undefined
  expected?: string | undefined
  got?: string | undefined
}

/**
 * Every problem in a rules file or expression: bad YAML, bad structure, bad syntax, unknown names.
 * `message` reads `segments.high_roller.when: line 3, column 28: expected …, got "2x"`; the parts
 * are also fields so a UI can underline the spot without parsing the message.
 */
export class RuleError extends Error {
  override readonly name = 'RuleError'
  readonly detail: string
  readonly line: number
  readonly column: number
  readonly path: string | undefined
  readonly segment: string | undefined
  readonly trigger: string | undefined
  readonly file: string | undefined
  /** What would have been valid here, without the word "expected": `")" or ","`. */
  readonly expected: string | undefined
  /** The offending text as quoted in the message, or `end of expression`. */
  readonly got: string | undefined

  constructor(init: RuleErrorInit) {
    const where = `line ${init.line}, column ${init.column}: ${init.detail}`
    super(init.path === undefined ? where : `${init.path}: ${where}`)
    this.detail = init.detail
    this.line = init.line
    this.column = init.column
    this.path = init.path
    this.segment = init.segment
    this.trigger = init.trigger
    this.file = init.file
    this.expected = init.expected
    this.got = init.got
  }
}

export function positionInText(text: string, offset: number): Position {
  let line = 1
  let lineStart = 0
  const end = Math.min(offset, text.length)
  for (let i = 0; i < end; i++) {
    if (text.charCodeAt(i) === 10) {
      line++
      lineStart = i + 1
    }
  }
  return { line, column: offset - lineStart + 1 }
}

export function errorAt(src: ExprSource, offset: number, detail: string, extra: { expected?: string; got?: string } = {}): RuleError {
  const pos = src.locate ? src.locate(offset) : positionInText(src.text, offset)
  return new RuleError({
    detail,
    line: pos.line,
    column: pos.column,
    path: src.path,
    segment: src.segment,
    trigger: src.trigger,
    file: src.file,
    expected: extra.expected,
    got: extra.got,
  })
}

/** Quotes source text for a message; single quotes when the text itself holds a double quote. */
export function quote(text: string): string {
  return text.includes('"') ? `'${text}'` : `"${text}"`
}
