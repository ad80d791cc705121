import { TOPICS, type EventLog } from '../log/event-log.ts'
import type { RulesDefinition } from '../rules/index.ts'
import type { RuleSetVersion, StateStore } from '../state/state-store.ts'
import { encodeRulesRecord } from './rules-record.ts'
import { upsertSegment } from './rules-source.ts'
import { parseDocument, type Document } from 'yaml'
import { mergeRules, parseTenantRules, type TenantRulesView } from './tenant-rules.ts'
import type { SegmentInput } from './thread/protocol.ts'

/**
 * Another change to the tenant's rules was stored between reading its latest version and storing
 * the next: nothing of this one was written. The app's error handler answers 409 `rules_conflict`.
 */
export class RulesConflictError extends Error {
  readonly statusCode = 409
  readonly code = 'RULES_CONFLICT'

  constructor(message: string) {
    super(message)
    this.name = 'RulesConflictError'
  }

  static of(tenant: string, version: number): RulesConflictError {
    return new RulesConflictError(`the rules of tenant "${tenant}" changed concurrently (version ${version} was taken): nothing was changed; read them again and retry`)
  }
}

/**
 * Rule changes one tenant may store per minute through one server. Each change writes a record of
 * up to 64 KiB to every partition, keeps a version for good, and may hold the tenant's partitions
 * for a backfill, which other tenants of those partitions wait for too.
 */
export const MAX_CHANGES_PER_MINUTE = 10

/** Over MAX_CHANGES_PER_MINUTE: nothing changed. The app's error handler answers 429 `rules_rate_limited`. */
export class RulesRateLimitedError extends Error {
  readonly statusCode = 429
  readonly code = 'RULES_RATE_LIMITED'

  constructor(message: string) {
    super(message)
    this.name = 'RulesRateLimitedError'
  }

  static of(tenant: string, retryInS: number): RulesRateLimitedError {
    return new RulesRateLimitedError(`tenant "${tenant}" changed its rules ${MAX_CHANGES_PER_MINUTE} times in the last minute, the most allowed: nothing was changed; retry in ${retryInS} s`)
  }
}

/** Appends records to one partition of the events log, resolving once they are durable. */
export type AppendToEvents = (partition: number, records: Array<{ key: string; value: Uint8Array; timestamp: number }>) => Promise<unknown>

export interface RuleChangeContext {
  store: StateStore
  view: TenantRulesView
  partitions: number
  append: AppendToEvents
  /** The change in progress: one server makes its changes one at a time, so its own never conflict. */
  queue?: Promise<unknown>
  /** When each tenant's changes of the last minute were stored (MAX_CHANGES_PER_MINUTE). */
  recent?: Map<string, number[]>
}

/** The tenant's own rules as stored (YAML, comments and all) and as parsed. */
export interface OwnRules {
  readonly text: string
  readonly own: RulesDefinition
}

/**
 * Changes a tenant's own rule set (docs/tenancy.md): the next version is computed from the latest
 * stored one and validated over the base, stored (the store refuses a version taken meanwhile:
 * RulesConflictError, nothing written), then announced to every partition of the events log as a
 * rules record. Changes made through one context run one at a time. A crash between the store and
 * the log leaves a stored version no partition runs; the next change of that tenant carries the
 * whole set, and a server re-announces the latest versions when it starts (announceLatest).
 */

export function changeTenantRules(c: RuleChangeContext, tenant: string, by: string, change: (current: OwnRules) => string): Promise<RuleSetVersion> {
  const run = (c.queue ?? Promise.resolve()).then(() => changeNow(c, tenant, by, change))
  c.queue = run.catch(() => undefined)
  return run
}

async function changeNow(c: RuleChangeContext, tenant: string, by: string, change: (current: OwnRules) => string): Promise<RuleSetVersion> {
  const now = Date.now()
  c.recent ??= new Map<string, number[]>()
  const recent = c.recent.get(tenant)?.filter((t) => t > now - 60_000) ?? []
  if (recent.length >= MAX_CHANGES_PER_MINUTE) throw RulesRateLimitedError.of(tenant, Math.ceil((recent[0]! + 60_000 - now) / 1000))
  const [latest] = await c.store.ruleSetHistory(tenant, 1)
  const base = c.view.base
  const current = latest?.text ?? ''
  // Parsed only when the change reads it: an import replaces a stored set that no longer compiles
  // (a trait since removed from the rules file) without reading it.
  const text = change({
    text: current,
    get own() {
      return parseTenantRules(current, base)
    },
  })
  // Within the caps, and every rule compiles over the base (a base segment it replaces included).
  mergeRules(base, parseTenantRules(text, base))
  const set: RuleSetVersion = { tenant, version: (latest?.version ?? 0) + 1, text, by, at: Date.now() }
  if (!(await c.store.addRuleSet(set))) throw RulesConflictError.of(tenant, set.version)
  c.recent.set(tenant, [...recent, now])
  await announce(c, set)
  c.view.update(set)
  return set
}

/**
 * Adds or replaces one segment of the tenant's own rules. The stored YAML is edited in place: its
 * comments, order and formatting stay as they were (an imported rule set keeps its comments).
 */
export function putTenantSegment(c: RuleChangeContext, tenant: string, by: string, name: string, input: SegmentInput): Promise<RuleSetVersion> {
  return changeTenantRules(c, tenant, by, ({ text, own }) => {
    // Checked on its own first: an error points into the `when` as sent.
    upsertSegment(own, name, input)
    return editYaml(text, (doc) => {
      const at = ['segments', name]
      if (!doc.hasIn(at))
        return doc.setIn(
          at,
          doc.createNode({ when: input.when, ...(input.keep === undefined ? {} : { keep: input.keep }), ...(input.description === undefined ? {} : { description: input.description }) }),
        )
      doc.setIn([...at, 'when'], input.when)
      for (const key of ['keep', 'description'] as const) {
        const value = input[key]
        if (value === undefined) doc.deleteIn([...at, key])
        else doc.setIn([...at, key], value)
      }
    })
  })
}

/** Removes one segment of the tenant's own rules, leaving the rest of the YAML as it was. */
export function removeTenantSegment(c: RuleChangeContext, tenant: string, by: string, name: string, missing: () => Error): Promise<RuleSetVersion> {
  return changeTenantRules(c, tenant, by, ({ text, own }) => {
    if (!own.segments.some((s) => s.name === name)) throw missing()
    return editYaml(text, (doc) => {
      doc.deleteIn(['segments', name])
    })
  })
}

function editYaml(text: string, edit: (doc: Document) => void): string {
  const doc = parseDocument(text)
  edit(doc)
  return String(doc)
}

/** Appends the rules record of a version to every partition. */
async function announce(c: RuleChangeContext, set: RuleSetVersion): Promise<void> {
  const value = encodeRulesRecord(set)
  await Promise.all(Array.from({ length: c.partitions }, (_, p) => c.append(p, [{ key: `rules:${set.tenant}`, value, timestamp: set.at }])))
}

/**
 * At start: every tenant's latest stored version goes into the view, and is announced again where
 * some partition's checkpoint is behind it, in case a crash came between storing it and appending
 * its record. (The record may also be in the log past the checkpoint: a partition that already
 * runs that version skips the copy.)
 */
export async function announceLatest(c: RuleChangeContext, runs: (tenant: string) => number): Promise<void> {
  for (const set of await c.store.latestRuleSets()) {
    c.view.update(set)
    if (runs(set.tenant) < set.version) await announce(c, set)
  }
}

/** An append straight to the log (collectors, which write the events log themselves). */
export function appendToLog(log: EventLog): AppendToEvents {
  return (partition, records) => log.append(TOPICS.events, partition, records)
}
