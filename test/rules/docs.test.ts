import { readFileSync } from 'node:fs'
import { describe, expect, test } from 'vitest'
import { compileRulesYaml, parseExpression } from '../../src/rules/index.ts'

/** docs/segments.md is the language reference: its examples must keep compiling. */
const DOC = readFileSync(new URL('../../docs/segments.md', import.meta.url), 'utf8')

function blocks(lang: string): string[] {
  const re = new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g')
  return [...DOC.matchAll(re)].map((m) => m[1] ?? '')
}

describe('docs/segments.md', () => {
  const files = blocks('yaml').filter((b) => /^(segments|triggers):/m.test(b) && !b.startsWith(' '))

  test('has rule examples', () => {
    expect(files.length).toBeGreaterThanOrEqual(5)
  })

  test.each(files.map((b, i) => [i, b]))('yaml example %i compiles', (_i, source) => {
    expect(() => compileRulesYaml(source)).not.toThrow()
  })

  test('the quoted-value fragment compiles once wrapped in a segment', () => {
    const fragment = blocks('yaml').find((b) => b.startsWith('    when: >-'))
    expect(fragment).toBeDefined()
    expect(() => compileRulesYaml(`segments:\n  s:\n${fragment}`)).not.toThrow()
  })

  test('filter examples parse', () => {
    const section = DOC.slice(DOC.indexOf('### Filters'))
    const lines = (section.split('```')[1] ?? '').split('\n').filter((l) => l.trim() !== '')
    expect(lines.length).toBe(3)
    for (const line of lines) expect(() => parseExpression(line)).not.toThrow()
  })
})
