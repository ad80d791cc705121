import type { Aggregate, Expr } from './ast.ts'
import { compileCondition, type Leaves } from './compile-expr.ts'
import { compileFilter } from './compile-filter.ts'
import type { ExprContext } from './cursor.ts'
import { errorAt, RuleError, type ExprSource } from './errors.ts'
import { compileMessage, type MessageTemplate } from './message-template.ts'
import { metricKey, printExpr } from './print.ts'
import { pathReader } from './read-path.ts'
import type { CompiledTrait } from './custom-traits.ts'
import { assertKnownTrait, assertTimestampTrait, TraitCatalog } from './traits.ts'
import type { CompiledRules, CompiledSegment, MetricSpec, RuleEnv, RulesDefinition, TriggerDefinition } from './types.ts'

interface CompiledWhen {
  test: (env: RuleEnv) => boolean
  metrics: number[]
  traits: string[]
  usesNow: boolean
  conjuncts: CompiledSegment['conjuncts']
}

/**
 * Compiles every rule once into closures. Metrics are shared across all rules by canonical text,
 * so `count(spin, 2h)` in two segments (or spelled `count(spin, 120m)`) is one window in the engine.
 * Indexes follow first appearance: segments in order, then triggers, then computed traits.
 */
export function compileRules(def: RulesDefinition): CompiledRules {
  const metrics: MetricSpec[] = []
  const byKey = new Map<string, MetricSpec>()
  const declared = def.traits ?? []
  const catalog = new TraitCatalog(declared)
  // A computed trait in a rule reads its aggregate: the same metric the profile shows.
  const computed = new Map(declared.flatMap((t) => (t.kind === 'computed' ? [[t.name, t] as const] : [])))

  const metricFor = (node: Aggregate, src: ExprSource): MetricSpec => {
    const key = metricKey(node)
    const existing = byKey.get(key)
    if (existing) return existing
    checkAggregate(node, src)
    const spec: MetricSpec = {
      index: metrics.length,
      key,
      agg: node.fn,
      event: node.event,
      field: node.field,
      filter: node.filter ? compileFilter(node.filter, src) : null,
      filterText: node.filter ? printExpr(node.filter) : null,
      windowMs: node.window?.ms ?? null,
    }
    metrics.push(spec)
    byKey.set(key, spec)
    return spec
  }

  const compileWhen = (expr: Expr, src: ExprSource, context: ExprContext): CompiledWhen => {
    const used = new Set<number>()
    const traits = new Set<string>()
    const flags = { usesNow: false }
    const leaves: Leaves<RuleEnv> = {
      aggregate(node) {
        const i = metricFor(node, src).index
        used.add(i)
        return (env) => env.metric(i) ?? null
      },
      trait(node) {
        const name = assertKnownTrait(node.name, src, node.start, catalog)
        traits.add(name)
        const c = computed.get(name)
        if (c !== undefined) {
          const i = metricFor(c.compute, c.source ?? { text: c.text, path: `traits.${c.name}.compute` }).index
          used.add(i)
          return (env) => env.metric(i) ?? null
        }
        return (env) => env.trait(name) ?? null
      },
      since(node) {
        const name = assertTimestampTrait(node.trait, src, node.start, catalog)
        traits.add(name)
        flags.usesNow = true
        return (env) => {
          const t = env.trait(name)
          return typeof t === 'number' && Number.isFinite(t) ? env.now - t : null
        }
      },
      field(node) {
        if (context === 'segment') {
          throw errorAt(src, node.start, "event properties can only be read in a filter or in a trigger's when")
        }
        const read = pathReader(node.path)
        return (env) => (env.props ? read(env.props) : null)
      },
    }
    const test = compileCondition(expr, leaves)
    // A segment's parts, for the engine's entry gates (triggers have none); a rule that is not an
    // `and` is its own one part, its test already made.
    const chain = context === 'segment' ? andChain(expr) : []
    const conjuncts = chain.length === 1 ? [{ expr, test }] : chain.map((part) => ({ expr: part, test: compileCondition(part, leaves) }))
    return { test, metrics: [...used].sort((a, b) => a - b), traits: [...traits].sort(), usesNow: flags.usesNow, conjuncts }
  }

  const segments = def.segments.map((seg) => {
    const src = seg.source ?? { text: seg.text, path: `segments.${seg.name}.when`, segment: seg.name }
    const when = compileWhen(seg.when, src, 'segment')
    let maxWindowMs: number | null = null
    for (const i of when.metrics) {
      const w = metrics[i]?.windowMs ?? null
      if (w !== null && (maxWindowMs === null || w > maxWindowMs)) maxWindowMs = w
    }
    return { name: seg.name, text: seg.text, keepMs: seg.keepMs, ...when, maxWindowMs }
  })

  const triggers = def.triggers.map((trg) => {
    const base = { name: trg.name, on: trg.on, text: trg.text, emit: trg.emit, message: triggerMessage(trg) }
    if (trg.when === null) return { ...base, test: null, metrics: [], traits: [], usesNow: false }
    const src = trg.source ?? { text: trg.text ?? '', path: `triggers.${trg.name}.when`, trigger: trg.name }
    const { conjuncts: _none, ...when } = compileWhen(trg.when, src, 'trigger')
    return { ...base, ...when }
  })

  const compiledTraits = declared.map((t): CompiledTrait => {
    if (t.kind === 'property') return { kind: 'property', name: t.name, type: t.type, from: t.from === null ? null : new Set(t.from), property: t.property }
    const metric = metricFor(t.compute, t.source ?? { text: t.text, path: `traits.${t.name}.compute` }).index
    return { kind: 'computed', name: t.name, type: 'number', metric }
  })

  return { metrics, segments, triggers, traits: compiledTraits }
}

/** The parts of an expression's top-level `and` chain, in order (the expression itself when it is not an `and`). */
function andChain(e: Expr): Expr[] {
  return e.kind === 'and' ? [...andChain(e.left), ...andChain(e.right)] : [e]
}

/** The parser already guarantees these; a hand-built AST gets the same errors. */
function checkAggregate(node: Aggregate, src: ExprSource): void {
  if (node.fn === 'count' && node.field !== null) {
    throw errorAt(src, node.start, 'count() counts events and takes no field')
  }
  if (node.fn !== 'count' && (node.field === null || node.field.length === 0)) {
    throw errorAt(src, node.start, `${node.fn}() needs an event field`)
  }
  if (node.window && !(node.window.ms > 0)) {
    throw errorAt(src, node.window.start, 'a window must be longer than zero')
  }
}

/** A trigger's message: `message:` (a template, load-yaml.ts checked it), else its description or name as written. */
function triggerMessage(trg: TriggerDefinition): MessageTemplate {
  if (trg.message === undefined) {
    const text = trg.description ?? trg.name
    return () => text
  }
  const compiled = compileMessage(trg.message)
  if (typeof compiled === 'string') throw new RuleError({ detail: compiled, line: 1, column: 1, path: `triggers.${trg.name}.message`, trigger: trg.name })
  return compiled
}
