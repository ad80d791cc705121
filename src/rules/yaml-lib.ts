import { createRequire } from 'node:module'
import type * as Yaml from 'yaml'

/*
 * The yaml package, loaded when a rules file is first parsed rather than when the rule language is
 * imported: a thread handed rules already parsed (a replay's engine threads, src/engine/replay/)
 * never loads it. Loading it cost about 45 ms of CPU at each such thread's start (measured).
 */

let lib: typeof Yaml | undefined
const yaml = (): typeof Yaml => (lib ??= createRequire(import.meta.url)('yaml') as typeof Yaml)

export const isMap = (node: unknown): node is Yaml.YAMLMap => yaml().isMap(node)
export const isSeq = (node: unknown): node is Yaml.YAMLSeq => yaml().isSeq(node)
export const isScalar = (node: unknown): node is Yaml.Scalar => yaml().isScalar(node)
export const isNode = (node: unknown): node is Yaml.Node => yaml().isNode(node)

export function newLineCounter(): Yaml.LineCounter {
  return new (yaml().LineCounter)()
}

export function parseDocument(source: string, options: Yaml.ParseOptions & Yaml.DocumentOptions & Yaml.SchemaOptions): Yaml.Document.Parsed {
  return yaml().parseDocument(source, options)
}
