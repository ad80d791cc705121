import { readFileSync, readdirSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'

/*
 * The layout's import rules (docs/architecture.md), checked on the source: no import cycles, type
 * imports included (a cycle of types still ties two files' changes together), the rule language
 * standing alone, and the ingestion pipeline free of HTTP.
 */

const SRC = resolve(import.meta.dirname, '../../src')

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const path = join(dir, d.name)
    if (d.isDirectory()) return sourceFiles(path)
    return d.name.endsWith('.ts') ? [path] : []
  })
}

/** Every module specifier a file names: static imports and re-exports (types too) and dynamic import(). */
function specifiers(text: string): string[] {
  const found: string[] = []
  for (const m of text.matchAll(/^\s*(?:import|export)\b[^'"]*?\bfrom\s+'([^']+)'/gm)) found.push(m[1]!)
  for (const m of text.matchAll(/\bimport\(\s*'([^']+)'\s*\)/g)) found.push(m[1]!)
  return found
}

const files = sourceFiles(SRC)
const graph = new Map<string, { local: string[]; packages: string[] }>()
for (const f of files) {
  const all = specifiers(readFileSync(f, 'utf8'))
  graph.set(f, {
    local: all.filter((s) => s.startsWith('.')).map((s) => resolve(dirname(f), s)),
    packages: all.filter((s) => !s.startsWith('.')),
  })
}
const name = (f: string) => relative(SRC, f)

function cycles(): string[][] {
  const state = new Map<string, 'open' | 'done'>()
  const stack: string[] = []
  const found: string[][] = []
  const visit = (f: string) => {
    state.set(f, 'open')
    stack.push(f)
    for (const d of graph.get(f)?.local ?? []) {
      if (!graph.has(d)) continue
      if (state.get(d) === 'open') found.push(stack.slice(stack.indexOf(d)).map(name))
      else if (state.get(d) === undefined) visit(d)
    }
    stack.pop()
    state.set(f, 'done')
  }
  for (const f of files) if (state.get(f) === undefined) visit(f)
  return found
}

/**
 * Which top-level folders of src/ each folder may import (docs/architecture.md, "What each folder
 * may import"); `(root)` is src/'s own files (the logger). A folder may always import itself.
 */
const MAY_IMPORT: Record<string, readonly string[]> = {
  '(root)': [],
  config: [],
  events: [],
  rules: [],
  log: ['(root)', 'events'],
  state: ['(root)'],
  ingest: ['events', 'log'],
  players: ['(root)', 'state'],
  engine: ['(root)', 'events', 'ingest', 'log', 'rules', 'state', 'warehouse'],
  game: ['(root)', 'events', 'ingest', 'log', 'players'],
  warehouse: ['(root)', 'events', 'ingest', 'log', 'rules'],
  worker: ['(root)', 'engine', 'log', 'state'],
  predict: ['(root)', 'events', 'ingest', 'log', 'warehouse'],
  sim: ['cli'],
  api: ['(root)', 'engine', 'events', 'game', 'ingest', 'log', 'players', 'predict', 'rules', 'state', 'warehouse'],
  cli: ['(root)', 'api', 'config', 'engine', 'events', 'ingest', 'log', 'predict', 'rules', 'sim', 'state', 'warehouse', 'worker'],
}

const folderOf = (f: string) => {
  const r = name(f)
  return r.includes('/') ? r.slice(0, r.indexOf('/')) : '(root)'
}

describe('imports in src/', () => {
  it('follows the folder rules: each folder imports only the folders it may', () => {
    const broken: string[] = []
    for (const f of files) {
      const from = folderOf(f)
      const allowed = MAY_IMPORT[from]
      if (allowed === undefined) {
        broken.push(`${name(f)}: folder ${from} has no rule in MAY_IMPORT (add one, and its paragraph in docs/architecture.md)`)
        continue
      }
      for (const d of graph.get(f)!.local) {
        const to = folderOf(d)
        if (to !== from && !allowed.includes(to)) broken.push(`${name(f)} -> ${name(d)}`)
      }
    }
    expect(broken).toEqual([])
  })

  it('finds the files it checks', () => {
    expect(files.length).toBeGreaterThan(200)
    expect(graph.get(join(SRC, 'ingest/fast-path-encoder.ts'))?.local).toContain(join(SRC, 'ingest/sorter.ts'))
  })

  it('has no import cycles, type imports included', () => {
    expect(cycles()).toEqual([])
  })

  it('keeps the rule language a module of its own: src/rules imports nothing else of src/', () => {
    const rules = files.filter((f) => name(f).startsWith('rules/'))
    expect(rules.length).toBeGreaterThan(10)
    const outside = rules.flatMap((f) =>
      graph
        .get(f)!
        .local.filter((d) => !name(d).startsWith('rules/'))
        .map((d) => `${name(f)} -> ${name(d)}`),
    )
    expect(outside).toEqual([])
  })

  it('keeps the ingestion pipeline free of HTTP: src/ingest imports neither src/api nor an HTTP framework', () => {
    const ingest = files.filter((f) => name(f).startsWith('ingest/'))
    expect(ingest.length).toBeGreaterThan(10)
    const offending = ingest.flatMap((f) => {
      const { local, packages } = graph.get(f)!
      return [...local.filter((d) => name(d).startsWith('api/')), ...packages.filter((p) => /^(fastify|@fastify\/|undici|node:http)/.test(p))].map((d) => `${name(f)} -> ${d}`)
    })
    expect(offending).toEqual([])
  })
})
