// From traits.ts itself, not the index: the dashboard's build reads this file and must not reach Node modules.
import type { TraitType, TraitValues } from '../../rules/traits.ts'
import type { ProgressLine } from '../progress.ts'

/** What the API reads from the engine, and the engine-thread message protocol. */

export interface ProfileSegment {
  segment: string
  /** When the user entered, epoch ms (event time). */
  since: number
}

export interface Profile {
  tenant: string
  user_id: string
  /** Every trait of the registry (src/rules/traits.ts), in its order, then the rules file's declared traits. */
  traits: ProfileTraits
  /** Lifetime events per name. */
  counts: Record<string, number>
  segments: ProfileSegment[]
  /** Every aggregate of the current rules, by canonical text, at the partition's watermark. */
  metrics: Record<string, number | null>
  /**
   * The person's other ids, linked by identify or alias (docs/identity.md), in the order they were
   * linked; empty when none. A profile asked for by one of them is the person's, with `user_id` the person's.
   */
  ids: string[]
}

/** The built-in traits, then the declared ones by name (docs/segments.md, "Custom traits"); null where a user has none. */
export type ProfileTraits = TraitValues & { [declared: string]: string | number | boolean | null }

/** A trait a rule or a profile search can name (GET /v1/traits). */
export interface TraitInfo {
  name: string
  type: TraitType
  /** builtin: kept by the engine for every user; property: declared, copied from events; computed: declared, an aggregate. */
  kind: 'builtin' | 'property' | 'computed'
  description: string | null
  /** property: the events it is read from (null = any event) and the property path. */
  from?: string[] | null
  property?: string
  /** computed: the aggregate as written. */
  compute?: string
}

export type CompareOp = '=' | '!=' | '<' | '<=' | '>' | '>='

/** One condition of a profile search: `country:TR`, `last_seen>2026-11-01T00:00:00Z`, `total_purchases>=10`. */
export interface TraitCondition {
  trait: string
  op: CompareOp
  value: string | number
}

export interface ProfileQuery {
  tenant: string
  segment?: string
  where: TraitCondition[]
  limit: number
  /** Opaque: the last user id of the previous page. */
  cursor?: string
}

export interface ProfilePage {
  profiles: Profile[]
  next: string | null
}

/** A member of a segment: who, and since when (epoch ms, event time). */
export interface Member {
  user_id: string
  since: number
}

export interface MemberPage {
  members: Member[]
  next: string | null
}

export interface SegmentInfo {
  name: string
  when: string
  keep: string | null
  description: string | null
  /** Members in the asking tenant. */
  size: number
}

export interface SegmentInput {
  when: string
  keep?: string
  description?: string
}

/** Posted by the engine thread every 100 ms: what /metrics, /readyz and backpressure read. */
export interface EngineSnapshot {
  ready: boolean
  /** Per partition: next offset to process and the end of the events log. */
  partitions: Array<{ partition: number; nextOffset: number; end: number; watermark: number | null }>
  processed: number
  late: number
  lateDropped: number
  segmentChanges: number
  notifications: number
  /**
   * Records of the events log the engine dead-lettered as poison (docs/engine.md, "Poison records").
   * Optional: the collector-mode client, reading checkpoints, does not report it.
   */
  poisonRecords?: number
  /** Identity links made (`linked`) and refused, and events of absorbed ids forwarded to their person's partition. */
  identity?: { linked: number; refused: number; forwarded: number }
  /** Members per segment, all tenants. */
  segmentSizes: Record<string, number>
  users: number
  error: string | null
  /** The engine's last progress line (docs/operations.md, "Progress lines"); absent before the first, and from collectors. */
  progress?: ProgressLine
}

/**
 * The questions the API asks the engine. Over the thread boundary each is one request message named
 * by its method (messages.ts derives the message types from this interface): a new query is one
 * method here, its answer in EngineQueries, and one line in EngineThreadClient.
 */
export interface EngineQueryApi {
  profile(tenant: string, userId: string): Promise<Profile | null>
  /**
   * The same profile as the JSON text GET /v1/profiles/:id answers, made where the profile is: one
   * string crosses the thread boundary instead of an object graph, and the API's thread does not
   * serialize it again (the lookup path's cost is mostly that thread's).
   */
  profileJson(tenant: string, userId: string): Promise<string | null>
  searchProfiles(query: ProfileQuery): Promise<ProfilePage>
  segments(tenant: string): Promise<SegmentInfo[]>
  /** A segment's members after the cursor; null when there is no such segment. */
  members(tenant: string, segment: string, limit: number, cursor?: string): Promise<MemberPage | null>
  /** Every trait the current rules can name, built-in first. */
  traits(): Promise<TraitInfo[]>
  /**
   * Adds or replaces a segment of the tenant's own rules (docs/tenancy.md); `by` names the key for the
   * audit trail. Rejects with the rule error (line, column) when it does not compile.
   */
  putSegment(name: string, input: SegmentInput, tenant: string, by: string): Promise<SegmentInfo>
  /** Removes a segment of the tenant's own rules; false when it has none of its own by that name. */
  deleteSegment(name: string, tenant: string, by: string): Promise<boolean>
  /** The tenant's own rule set: its YAML and version (0: none yet). */
  tenantRules(tenant: string): Promise<TenantRuleSet>
  /** Replaces the tenant's own rule set with YAML (an import); rejects with the rule error (line, column in that YAML). */
  replaceTenantRules(tenant: string, yaml: string, by: string): Promise<TenantRuleSet>
  /** The tenant's rule set versions, newest first: who changed its rules, and when. */
  ruleHistory(tenant: string, limit: number): Promise<TenantRuleSet[]>
}

/** One version of a tenant's own rules (docs/tenancy.md). */
export interface TenantRuleSet {
  tenant: string
  /** 0 before its first change. */
  version: number
  /** Its segments and triggers, in the rules file's format (no traits: those are the file's). */
  yaml: string
  /** The key that made the change (`key-` and 12 hex digits of the key's SHA-256), or null. */
  changed_by: string | null
  /** When, epoch ms, or null. */
  changed_at: number | null
  /**
   * The last backfill of the tenant's new aggregates (docs/tenancy.md, "Backfill on creation"), as
   * this server's partitions ran it; null when none ran here since it started (and on collectors).
   */
  backfill?: BackfillStatus | null
}

export interface BackfillStatus {
  version: number
  state: 'running' | 'done'
  /** Partitions that have filled the history, of those that needed to (partitions with the tenant's events). */
  partitions: { done: number; total: number }
  /** Rows read: from the warehouse, then from the log. */
  rows: { warehouse: number; log: number }
  /** Users given history. */
  users: number
  /** From the first partition's start to the last one's end, or to now while running. */
  seconds: number
  /** Sources that failed (their rows dropped, history read again from the log). */
  errors: string[]
}

export type EngineMethod = keyof EngineQueryApi

export interface EngineClient extends EngineQueryApi {
  /** The latest snapshot (synchronous: kept fresh by the engine thread). */
  snapshot(): EngineSnapshot
  close(): Promise<void>
}
