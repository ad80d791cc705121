import { describe, expect, it } from 'vitest'
import { compileRules, parseRulesYaml, shareableRules, type RulesDefinition } from '../../src/rules/index.ts'

/*
 * A replay's engine threads get the rules already parsed (src/cli/replay.ts), so they never load the
 * YAML parser: the definition must cross a thread boundary (structured clone) and compile there to
 * the same rules.
 */

const RULES = `
traits:
  plan: string
  lifetime_value: { compute: sum(purchase.amount) }
streams:
  buy: { events: [purchase] }
segments:
  whale:
    when: lifetime_value > 100 and plan = "pro"
    description: big spenders
  busy:
    when: count(spin, 2h) >= 200
triggers:
  big_buy:
    on: purchase
    when: amount > 50
    emit: webhook
    message: "bought {item}"
`

/** Every key path holding a function: what structured clone refuses. */
function functionsIn(value: unknown, path = '', out: string[] = []): string[] {
  if (typeof value === 'function') out.push(path)
  else if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value)) functionsIn(v, `${path}.${k}`, out)
  return out
}

describe('shareableRules', () => {
  it('makes parsed rules cloneable to another thread, dropping only the YAML positions, and they compile the same', () => {
    const def = parseRulesYaml(RULES, 'rules.yaml')
    // Why it exists: the parser's error locators are functions.
    expect(functionsIn(def).length).toBeGreaterThan(0)
    expect(() => structuredClone(def)).toThrow()

    const shared = structuredClone(shareableRules(def))
    expect(functionsIn(shared)).toEqual([])
    const withoutSources = (d: RulesDefinition) => JSON.parse(JSON.stringify(d, (k, v: unknown) => (k === 'source' ? undefined : v))) as unknown
    expect(shared).toEqual(withoutSources(def))
    expect(shared.traits?.map((t) => t.name)).toEqual(['plan', 'lifetime_value'])
    expect(shared.streams?.map((s) => s.name)).toEqual(['buy'])

    const a = compileRules(def)
    const b = compileRules(shared)
    expect(b.segments.map((s) => [s.name, s.text])).toEqual(a.segments.map((s) => [s.name, s.text]))
    expect(b.triggers.map((t) => [t.name, t.on, t.emit])).toEqual(a.triggers.map((t) => [t.name, t.on, t.emit]))
    expect(b.metrics).toEqual(a.metrics)
  })
})
