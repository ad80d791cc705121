import type { EngineOptions } from './engine-options.ts'
import { prepareRules, type EngineRules } from './engine-rules.ts'
import { compileRules, parseRulesYaml, RuleError, type RulesDefinition } from '../rules/index.ts'

/*
 * Per-tenant rules (docs/tenancy.md). The rules file is the base every tenant runs; a tenant's own
 * rule set (segments and triggers, YAML) adds to it, and a segment or trigger of its own with a
 * base one's name replaces that one for the tenant only. Traits are declared in the file alone:
 * a trait is a column of every tenant's profiles and warehouse.
 */

/** Caps on one tenant's own rule set. */
export const TENANT_RULE_LIMITS = {
  /** Bytes of the rule set's YAML. */
  maxBytes: 64 * 1024,
  /** Segments of its own (the base's are not counted). */
  maxSegments: 200,
  maxTriggers: 200,
} as const

/** A tenant's own rules, parsed against the base's traits; a RuleError when they are not valid. */
export function parseTenantRules(text: string, base: RulesDefinition): RulesDefinition {
  const bytes = Buffer.byteLength(text)
  if (bytes > TENANT_RULE_LIMITS.maxBytes) throw limitError(`a tenant rule set is at most ${TENANT_RULE_LIMITS.maxBytes} bytes of YAML, this one ${bytes}`)
  const own = parseRulesYaml(text, 'tenant rules', base.traits ?? [])
  checkCounts(own)
  return own
}

/** Refuses a rule set over the caps on segments and triggers. */
function checkCounts(own: RulesDefinition): void {
  if (own.segments.length > TENANT_RULE_LIMITS.maxSegments) throw limitError(`a tenant has at most ${TENANT_RULE_LIMITS.maxSegments} segments of its own, this rule set ${own.segments.length}`)
  if (own.triggers.length > TENANT_RULE_LIMITS.maxTriggers) throw limitError(`a tenant has at most ${TENANT_RULE_LIMITS.maxTriggers} triggers of its own, this rule set ${own.triggers.length}`)
}

function limitError(detail: string): RuleError {
  return new RuleError({ detail, line: 1, column: 1, path: '' })
}

/** The base with the tenant's own rules on top: a name of its own replaces the base's, new names follow the base's. */
export function mergeRules(base: RulesDefinition, own: RulesDefinition): RulesDefinition {
  const segments = new Map(own.segments.map((s) => [s.name, s]))
  const triggers = new Map(own.triggers.map((t) => [t.name, t]))
  const merged: RulesDefinition = {
    segments: [...base.segments.map((s) => segments.get(s.name) ?? s), ...own.segments.filter((s) => !base.segments.some((b) => b.name === s.name))],
    triggers: [...base.triggers.map((t) => triggers.get(t.name) ?? t), ...own.triggers.filter((t) => !base.triggers.some((b) => b.name === t.name))],
    ...(base.traits ? { traits: base.traits } : {}),
    // Streams are the server's: every tenant's events go to the same logs.
    ...(base.streams ? { streams: base.streams } : {}),
  }
  compileRules(merged)
  return merged
}

/**
 * The rules one partition runs for each tenant: the base, or the base with the tenant's own set at
 * the version this partition has read up to. Partitions apply a change at their own point of the
 * log, so each keeps its own book.
 */
export class RuleBook {
  private readonly own = new Map<string, { version: number; text: string; rules: EngineRules }>()

  constructor(
    readonly base: EngineRules,
    private readonly options: EngineOptions,
  ) {}

  /** No tenant has rules of its own: every user runs the base (the hot path's shortcut). */
  get baseOnly(): boolean {
    return this.own.size === 0
  }

  of(tenant: string): EngineRules {
    return this.own.size === 0 ? this.base : (this.own.get(tenant)?.rules ?? this.base)
  }

  /** The version in effect for the tenant; 0 when it runs the base alone. */
  version(tenant: string): number {
    return this.own.get(tenant)?.version ?? 0
  }

  /** Versions in effect, by tenant: what a checkpoint records. */
  versions(): Record<string, number> {
    const out: Record<string, number> = {}
    for (const [tenant, v] of this.own) out[tenant] = v.version
    return out
  }

  /** The tenant's own rule set at a version, prepared over the base; a RuleError leaves the book as it was. */
  set(tenant: string, version: number, text: string): EngineRules {
    const rules = prepareRules(mergeRules(this.base.definition, parseTenantRules(text, this.base.definition)), this.options)
    this.own.set(tenant, { version, text, rules })
    return rules
  }

  /** Sets a version newer than the one in effect; false for a copy already applied. */
  apply(r: { tenant: string; version: number; text: string }): boolean {
    if (r.version <= this.version(r.tenant)) return false
    this.set(r.tenant, r.version, r.text)
    return true
  }
}

/**
 * The latest rule set of each tenant, as the API lists and changes them: ahead of any partition
 * that has not yet read the change's record, by a poll at most.
 */
export class TenantRulesView {
  private readonly latest = new Map<string, { version: number; own: RulesDefinition; merged: RulesDefinition }>()

  constructor(readonly base: RulesDefinition) {}

  /** The rules a tenant runs: the base, or the base with its own on top. */
  definition(tenant?: string): RulesDefinition {
    return tenant === undefined ? this.base : (this.latest.get(tenant)?.merged ?? this.base)
  }

  /** The tenant's own rules (empty when it has none) and their version (0). */
  own(tenant: string): { version: number; own: RulesDefinition } {
    return this.latest.get(tenant) ?? { version: 0, own: { segments: [], triggers: [] } }
  }

  /** Takes a version newer than the one known; one that no longer compiles against the base is skipped (false). */
  update(set: { tenant: string; version: number; text: string }): boolean {
    if (set.version <= this.own(set.tenant).version) return false
    try {
      const own = parseTenantRules(set.text, this.base)
      this.latest.set(set.tenant, { version: set.version, own, merged: mergeRules(this.base, own) })
      return true
    } catch {
      return false
    }
  }
}
