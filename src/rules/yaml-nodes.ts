import type { LineCounter, Node, Scalar, YAMLMap } from 'yaml'
import { isNode, isScalar } from './yaml-lib.ts'
import { quote, RuleError } from './errors.ts'

export interface Entry {
  key: string
  keyNode: Scalar
  /** null for `key:` with nothing after it. */
  value: Node | null
}

export interface ErrorExtra {
  segment?: string | undefined
  trigger?: string | undefined
  expected?: string | undefined
  got?: string | undefined
}

/** Turns node offsets into RuleErrors positioned in the YAML file. */
export class YamlFile {
  constructor(
    readonly source: string,
    readonly lines: LineCounter,
    readonly file: string | undefined,
  ) {}

  error(offset: number, path: string | undefined, detail: string, extra: ErrorExtra = {}): RuleError {
    const { line, col } = this.lines.linePos(offset)
    return new RuleError({ ...extra, detail, line, column: col, path: path === '' ? undefined : path, file: this.file })
  }

  errorAtNode(node: Node | null, fallback: number, path: string | undefined, detail: string, extra: ErrorExtra = {}): RuleError {
    return this.error(node?.range?.[0] ?? fallback, path, detail, extra)
  }

  /** The pairs of a map, insisting on plain string keys. */
  entries(map: YAMLMap, path: string): Entry[] {
    return map.items.map((pair) => {
      const keyNode = pair.key
      if (!isScalar(keyNode) || (typeof keyNode.value !== 'string' && typeof keyNode.value !== 'number')) {
        const at = isNode(keyNode) ? (keyNode.range?.[0] ?? 0) : (map.range?.[0] ?? 0)
        throw this.error(at, path, 'keys must be plain names')
      }
      const value = pair.value as Node | null
      return { key: String(keyNode.value), keyNode, value: isScalar(value) && value.value === null ? null : value }
    })
  }

  /** Refuses unknown keys, with a did-you-mean, so a typo like `kepp` is not silently ignored. */
  checkKeys(entries: Entry[], allowed: readonly string[], path: string): void {
    for (const { key, keyNode } of entries) {
      if (allowed.includes(key)) continue
      const guess = suggest(key, allowed)
      const hint = guess ? ` (did you mean ${quote(guess)}?)` : ''
      const expected = allowed.map(quote).join(', ')
      throw this.error(keyNode.range?.[0] ?? 0, childPath(path, key), `unknown key ${quote(key)}${hint}; expected one of ${expected}`, {
        expected,
        got: quote(key),
      })
    }
  }
}

export function childPath(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`
}

export function suggest(word: string, options: readonly string[]): string | undefined {
  let best: string | undefined
  let bestDistance = 3
  for (const o of options) {
    const d = editDistance(word.toLowerCase(), o)
    if (d < bestDistance) {
      best = o
      bestDistance = d
    }
  }
  return best
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const row = [i]
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      row.push(Math.min((prev[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost))
    }
    prev = row
  }
  return prev[b.length] ?? 0
}
