import { describe, expect, it } from 'vitest'
import { compileRulesYaml, parseExpression, parseRulesYaml, PROFILE_PROPERTIES, printExpr, TRAITS } from '../../src/rules/index.ts'
import { fakeEnv, ruleError } from './helpers.ts'

/** The predicted.* traits (docs/segments.md, "Traits"): dotted names that are traits, set only by prediction events. */
describe('predicted traits in the rule language', () => {
  it('are in the registry with their types, and are not profile properties', () => {
    expect(TRAITS).toMatchObject({
      'predicted.purchase_7d': 'number',
      'predicted.churn_7d': 'number',
      'predicted.wealth_30d': 'number',
      'predicted.model_version': 'string',
      'predicted.scored_at': 'timestamp',
    })
    expect(PROFILE_PROPERTIES).toEqual(['country', 'language', 'user_agent', 'referrer', 'host'])
  })

  it('resolve a dotted name as the trait in a segment, and print back the same', () => {
    const e = parseExpression('predicted.churn_7d > 0.7 and total_purchases > 50 and predicted.model_version = "m1"')
    expect(e).toMatchObject({ left: { left: { left: { kind: 'trait', name: 'predicted.churn_7d', start: 0, end: 18 } } } })
    expect(printExpr(e)).toBe('predicted.churn_7d > 0.7 and total_purchases > 50 and predicted.model_version = "m1"')
    const since = parseExpression('since( predicted . scored_at ) > 48h')
    expect(since).toMatchObject({ left: { kind: 'since', trait: 'predicted.scored_at' } })
    expect(printExpr(since)).toBe('since(predicted.scored_at) > 2d')
    expect(printExpr(parseExpression(printExpr(since)))).toBe('since(predicted.scored_at) > 2d')
  })

  it("win over the triggering event's field of that path in a trigger's when; other dotted names stay fields", () => {
    const e = parseExpression('predicted.churn_7d > 0.5 and predicted.other = 1 and meta.level > 2', 'trigger')
    expect(e).toMatchObject({
      left: { left: { left: { kind: 'trait', name: 'predicted.churn_7d' } }, right: { left: { kind: 'field', path: ['predicted', 'other'] } } },
      right: { left: { kind: 'field', path: ['meta', 'level'] } },
    })
    expect(parseExpression(printExpr(e), 'trigger')).toEqual(parseExpression('predicted.churn_7d > 0.5 and predicted.other = 1 and meta.level > 2', 'trigger'))
  })

  it('stay event properties inside a filter', () => {
    const e = parseExpression('count(score where predicted.churn_7d > 0.5, 1d) > 0')
    expect(e).toMatchObject({ left: { filter: { left: { kind: 'field', path: ['predicted', 'churn_7d'] } } } })
    expect(printExpr(e)).toBe('count(score where predicted.churn_7d > 0.5, 1d) > 0')
  })

  it('compile to reads of the trait', () => {
    const rules = compileRulesYaml('segments:\n  risky:\n    when: predicted.churn_7d > 0.7 and since(predicted.scored_at) < 2d\n')
    const test = rules.segments[0]!.test
    const env = (churn: number | null, at: number | null) => fakeEnv(rules, { now: 1_000_000_000, traits: { 'predicted.churn_7d': churn, 'predicted.scored_at': at } })
    expect(test(env(0.8, 1_000_000_000 - 1000))).toBe(true)
    expect(test(env(0.8, 1_000_000_000 - 3 * 86_400_000))).toBe(false)
    expect(test(env(null, 1_000_000_000))).toBe(false)
  })

  it('name the predicted traits for an unknown predicted.* name, and refuse since() of a score', () => {
    expect(ruleError(() => parseExpression('predicted.churn > 1')).message).toContain(
      'unknown trait "predicted.churn"; the predicted traits are predicted.purchase_7d, predicted.churn_7d, predicted.wealth_30d, predicted.model_version, predicted.scored_at',
    )
    expect(ruleError(() => parseExpression('since(predicted.churn_7d) > 1d')).message).toContain('since() takes a timestamp trait')
    expect(ruleError(() => parseExpression('predicted.churn_7d')).message).toContain('is a number trait, not a condition')
  })

  it('cannot be declared, and prediction events cannot be aggregated, trigger or set a declared trait', () => {
    expect(ruleError(() => parseRulesYaml('traits:\n  predicted.churn_7d: number\n')).message).toContain('"predicted.churn_7d" is a built-in trait; pick another name')
    expect(ruleError(() => parseRulesYaml('traits:\n  predicted.ltv: number\n')).message).toContain('names starting with "predicted." are kept for the traits prediction events set')
    const refused = '"$prediction" events are predictions, not activity'
    expect(ruleError(() => parseExpression('count("$prediction", 1d) > 0')).message).toContain(refused)
    expect(ruleError(() => parseRulesYaml('triggers:\n  t:\n    on: $prediction\n')).message).toContain(refused)
    expect(ruleError(() => parseRulesYaml('traits:\n  ltv: { type: number, from: $prediction }\n')).message).toContain(refused)
  })
})
