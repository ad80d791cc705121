import { describe, expect, it } from 'vitest'
import { upsertSegment } from '../../src/engine/rules-source.ts'
import { compileRules, parseRulesYaml, RuleError } from '../../src/rules/index.ts'

const FILE = `
segments:
  acme_pro:
    when: partner_name = "acme" and plan = "pro"
  big_spender:
    when: lifetime_value > 100
  recent_signup:
    when: since(signed_up_at) < 7d
traits:
  plan: string
  partner_name: { type: string, from: [identify, page], description: Seed 004's partner }
  campaign: { type: string, property: context.campaign.name }
  vip: boolean
  signed_up_at: { type: timestamp, from: identify }
  lifetime_value: { compute: sum(purchase.amount) }
triggers:
  welcome_vip:
    on: login
    when: vip and plan = "pro"
    emit: notification
`

function errorOf(yaml: string): string {
  try {
    parseRulesYaml(yaml)
  } catch (err) {
    if (err instanceof RuleError) return err.message
    throw err
  }
  throw new Error('no error')
}

describe('custom traits in the rules file', () => {
  it('reads both forms, wherever the section sits, and rules name the traits bare', () => {
    const def = parseRulesYaml(FILE)
    expect(def.traits).toEqual([
      { kind: 'property', name: 'plan', type: 'string', from: null, property: ['plan'] },
      { kind: 'property', name: 'partner_name', type: 'string', from: ['identify', 'page'], property: ['partner_name'], description: "Seed 004's partner" },
      { kind: 'property', name: 'campaign', type: 'string', from: null, property: ['context', 'campaign', 'name'], description: undefined },
      { kind: 'property', name: 'vip', type: 'boolean', from: null, property: ['vip'] },
      { kind: 'property', name: 'signed_up_at', type: 'timestamp', from: ['identify'], property: ['signed_up_at'], description: undefined },
      expect.objectContaining({ kind: 'computed', name: 'lifetime_value', type: 'number', text: 'sum(purchase.amount)' }),
    ])
    const compiled = compileRules(def)
    expect(compiled.segments.map((s) => s.traits)).toEqual([['partner_name', 'plan'], ['lifetime_value'], ['signed_up_at']])
    // A computed trait is a metric of its own, shared with any rule that reads it.
    const ltv = compiled.traits.find((t) => t.name === 'lifetime_value')
    expect(ltv).toEqual({ kind: 'computed', name: 'lifetime_value', type: 'number', metric: 0 })
    expect(compiled.metrics.map((m) => m.key)).toEqual(['sum(purchase.amount)'])
    expect(compiled.segments[1]!.metrics).toEqual([0])
    // In a trigger a declared trait is the trait, not the triggering event's property.
    expect(compiled.triggers[0]!.traits).toEqual(['plan', 'vip'])
  })

  it('still refuses an undeclared trait at load, naming the declared ones', () => {
    expect(errorOf('traits:\n  plan: string\nsegments:\n  s:\n    when: partner = "x"\n')).toBe(
      `segments.s.when: line 5, column 11: unknown trait "partner"; known traits: first_seen, last_seen, is_new, total_purchases, event_count, country, language, user_agent, referrer, host, predicted.purchase_7d, predicted.churn_7d, predicted.wealth_30d, predicted.model_version, predicted.scored_at, plan (declare others under "traits:" in the rules file)`,
    )
  })

  it.each([
    ['a built-in name', 'traits:\n  country: string\n', 'traits.country: line 2, column 3: invalid trait name "country": "country" is a built-in trait; pick another name'],
    ['a keyword', 'traits:\n  where: string\n', 'traits.where: line 2, column 3: invalid trait name "where": "where" is a word of the rule language; pick another name'],
    ['a function', 'traits:\n  sum: number\n', 'traits.sum: line 2, column 3: invalid trait name "sum": "sum" is a function of the rule language; pick another name'],
    ['__proto__', 'traits:\n  __proto__: string\n', 'traits.__proto__: line 2, column 3: invalid trait name "__proto__": "__proto__" cannot name a trait'],
    [
      'upper case',
      'traits:\n  Plan: string\n',
      'traits.Plan: line 2, column 3: invalid trait name "Plan": a trait name is lower-case letters, digits and _, starting with a letter or _, at most 64 characters',
    ],
    ['an unknown type', 'traits:\n  plan: text\n', 'traits.plan: line 2, column 9: a trait type is one of string, number, boolean, timestamp, got "text"'],
    ['no type', 'traits:\n  plan:\n', 'traits.plan: line 2, column 3: trait "plan" needs a type (string, number, boolean, timestamp) or a map with "type" or "compute"'],
    [
      'a typo in a key',
      'traits:\n  plan: { type: string, form: identify }\n',
      'traits.plan.form: line 2, column 25: unknown key "form" (did you mean "from"?); expected one of "type", "from", "property", "description"',
    ],
    [
      'compute not an aggregate',
      'traits:\n  x: { compute: total_purchases }\n',
      'traits.x.compute: line 2, column 17: compute must be one aggregate, such as sum(purchase.amount) or count(login, 30d)',
    ],
    ['compute and type', 'traits:\n  x: { compute: count(login), type: number }\n', 'traits.x.type: line 2, column 31: unknown key "type"; expected one of "compute", "description"'],
    [
      'a bad property path',
      'traits:\n  x: { type: string, property: "a..b" }\n',
      'traits.x.property: line 2, column 3: property must be a property name or a dotted path such as context.campaign.name, got "a..b"',
    ],
    [
      'since() of a string trait',
      'traits:\n  plan: string\nsegments:\n  s:\n    when: since(plan) > 1d\n',
      'segments.s.when: line 5, column 17: since() takes a timestamp trait (first_seen or last_seen or predicted.scored_at), got "plan"',
    ],
  ])('refuses %s with a positioned error', (_, yaml, message) => {
    expect(errorOf(yaml)).toBe(message)
  })

  it('bounds how many traits a file declares', () => {
    const many = Array.from({ length: 101 }, (_, i) => `  t${i}: number`).join('\n')
    expect(errorOf(`traits:\n${many}\n`)).toBe('traits: line 102, column 3: at most 100 traits can be declared')
  })

  it('keeps the traits when a segment changes at run time, and resolves its rule against them', () => {
    const def = parseRulesYaml(FILE)
    const next = upsertSegment(def, 'trial', { when: 'plan = "trial" and vip' })
    expect(next.traits).toBe(def.traits)
    expect(next.segments.map((s) => s.name)).toEqual(['acme_pro', 'big_spender', 'recent_signup', 'trial'])
    expect(() => upsertSegment(def, 'bad', { when: 'nope = 1' })).toThrow(/unknown trait "nope"/)
  })

  it("reads a tenant's own rules against the file's traits, and refuses traits of their own", () => {
    const def = parseRulesYaml(FILE)
    const own = parseRulesYaml('segments:\n  trial:\n    when: plan = "trial" and vip\n', 'tenant rules', def.traits)
    expect(own.segments.map((s) => s.name)).toEqual(['trial'])
    expect(() => parseRulesYaml('traits:\n  x: number\n', 'tenant rules', def.traits)).toThrow('traits are declared in the server rules file, not in a tenant rule set')
    expect(() => parseRulesYaml('segments:\n  s:\n    when: nope = 1\n', 'tenant rules', def.traits)).toThrow(/unknown trait "nope"/)
  })
})
