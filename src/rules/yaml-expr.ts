import type { Node } from 'yaml'
import { isMap, isScalar } from './yaml-lib.ts'
import type { Expr } from './ast.ts'
import type { ExprContext } from './cursor.ts'
import type { ExprSource } from './errors.ts'
import { parseExpression, parseValue } from './parser.ts'
import { scalarOffsetMap } from './source-map.ts'
import type { TraitCatalog } from './traits.ts'
import type { Entry, ErrorExtra, YamlFile } from './yaml-nodes.ts'

/** A rule expression held in a YAML scalar (`value`: one operand, not a condition): parsed with errors positioned in the file. */
export function expression(y: YamlFile, entry: Entry, path: string, owner: ErrorExtra, context: ExprContext | 'value', traits: TraitCatalog): { expr: Expr; source: ExprSource } {
  const node = entry.value
  if (node === null || (isScalar(node) && typeof node.value === 'string' && node.value.trim() === '')) {
    throw y.error(entry.keyNode.range?.[0] ?? 0, path, entry.key === 'when' ? '"when" is empty; write a condition such as count(spin, 1h) > 0' : `"${entry.key}" is empty`, {
      ...owner,
      expected: 'a condition',
    })
  }
  if (!isScalar(node) || typeof node.value !== 'string') {
    throw y.errorAtNode(node, 0, path, `"${entry.key}" must be a string, got ${describeNode(node)}; quote it if needed`, owner)
  }
  const value = node.value
  const toFile = scalarOffsetMap(y.source, node, value)
  const source: ExprSource = {
    text: value.trimEnd(),
    path,
    file: y.file,
    ...owner,
    locate: (offset) => {
      const { line, col } = y.lines.linePos(toFile(offset))
      return { line, column: col }
    },
  }
  return { expr: context === 'value' ? parseValue(source, traits) : parseExpression(source, context, traits), source }
}

export function text(y: YamlFile, entry: Entry | undefined, path: string, owner: ErrorExtra): string | undefined {
  if (!entry || entry.value === null) return undefined
  const node = entry.value
  if (isScalar(node) && typeof node.value === 'string') return node.value.trim()
  throw y.errorAtNode(node, 0, path, `expected a string, got ${describeNode(node)}`, { ...owner, expected: 'a string' })
}

export function describeNode(node: Node | null): string {
  if (node === null) return 'nothing'
  if (isMap(node)) return 'a map'
  if (isScalar(node)) return node.value === null ? 'nothing' : `${typeof node.value} ${String(node.value)}`
  return 'a list'
}
