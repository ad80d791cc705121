import { expect } from 'vitest'
import { RuleError, type CompiledRules, type RuleEnv } from '../../src/rules/index.ts'

/** Runs `fn`, which must throw a RuleError, and returns it. */
export function ruleError(fn: () => unknown): RuleError {
  try {
    fn()
  } catch (e) {
    expect(e).toBeInstanceOf(RuleError)
    return e as RuleError
  }
  throw new Error('expected a RuleError, nothing was thrown')
}

export interface FakeUser {
  now?: number
  /** Metric values by canonical key; absent keys read as null. */
  metrics?: Record<string, number | null>
  traits?: Record<string, string | number | boolean | null>
  props?: Record<string, unknown>
}

/** A RuleEnv over plain data, addressing metrics by key so tests do not depend on index order. */
export function fakeEnv(rules: CompiledRules, user: FakeUser): RuleEnv {
  return {
    now: user.now ?? 0,
    metric: (i) => {
      const key = rules.metrics[i]?.key
      return key === undefined ? null : (user.metrics?.[key] ?? null)
    },
    trait: (name) => user.traits?.[name] ?? null,
    props: user.props,
  }
}
