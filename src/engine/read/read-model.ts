import { formatDuration, KNOWN_TRAITS, TRAITS } from '../../rules/index.ts'
import type { EngineOptions } from '../engine-options.ts'
import type { EngineRules } from '../engine-rules.ts'
import { compareIds } from '../id-order.ts'
import { PREDICTED_TRAIT_DESCRIPTIONS } from '../predicted-traits.ts'
import { buildProfile, matchesTraits } from '../profile.ts'
import type { Member, MemberPage, Profile, ProfilePage, ProfileQuery, SegmentInfo, TraitInfo } from '../thread/protocol.ts'
import type { UserState } from '../user-state.ts'
import type { UserSource } from './user-source.ts'

/**
 * The API's questions to the engine, answered once for both places engine state lives: the engine
 * thread (live partitions) and collectors reading the workers' checkpoints. Only where users come
 * from differs (UserSource); paging, ordering, filters and shapes are written here alone.
 */
export class EngineReadModel {
  // Private names (#): the engine thread's and the collector's clients extend this class with fields of their own.
  readonly #source: UserSource
  readonly #options: EngineOptions

  constructor(source: UserSource, options: EngineOptions) {
    this.#source = source
    this.#options = options
  }

  async profile(tenant: string, userId: string): Promise<Profile | null> {
    const at = await this.#source.user(tenant, userId)
    return at === null ? null : buildProfile(at.user, at.rules, this.#options, at.T)
  }

  async profileJson(tenant: string, userId: string): Promise<string | null> {
    const p = await this.profile(tenant, userId)
    return p === null ? null : JSON.stringify(p)
  }

  /** Profiles of a tenant matching every trait condition (and in a segment, if named), by user id after the cursor. */
  async searchProfiles(q: ProfileQuery): Promise<ProfilePage> {
    const segment = q.segment === undefined ? null : this.segmentIndex(q.tenant, q.segment)
    if (segment === undefined) return { profiles: [], next: null }
    const found: Array<{ u: UserState; rules: EngineRules; T: number }> = []
    await this.#source.scan(q.tenant, (u, rules, T) => {
      if (q.cursor !== undefined && compareIds(u.userId, q.cursor) <= 0) return
      if (segment !== null && !u.isMember(segment(rules))) return
      if (matchesTraits(u, q.where, rules, this.#options, T)) found.push({ u, rules, T })
    })
    found.sort((a, b) => compareIds(a.u.userId, b.u.userId))
    const page = found.slice(0, q.limit)
    return {
      profiles: page.map(({ u, rules, T }) => buildProfile(u, rules, this.#options, T)),
      next: found.length > q.limit ? page[page.length - 1]!.u.userId : null,
    }
  }

  /** A segment's members in a tenant by user id after the cursor; null when there is no such segment. */
  async members(tenant: string, name: string, limit: number, cursor?: string): Promise<MemberPage | null> {
    const segment = this.segmentIndex(tenant, name)
    if (segment === undefined) return null
    const found: Member[] = []
    await this.#source.scan(tenant, (u, rules) => {
      const i = segment(rules)
      if (!u.isMember(i) || (cursor !== undefined && compareIds(u.userId, cursor) <= 0)) return
      found.push({ user_id: u.userId, since: u.since[i]! })
    })
    found.sort((a, b) => compareIds(a.user_id, b.user_id))
    const page = found.slice(0, limit)
    return { members: page, next: found.length > limit ? page[page.length - 1]!.user_id : null }
  }

  /** Every segment of the tenant's rules (docs/tenancy.md) with its size in the tenant. */
  segments(tenant: string): Promise<SegmentInfo[]> {
    return Promise.resolve(
      this.#source.definition(tenant).segments.map((s) => ({
        name: s.name,
        when: s.text,
        keep: s.keepMs > 0 ? formatDuration(s.keepMs) : null,
        description: s.description ?? null,
        size: this.#source.segmentSize(tenant, s.name),
      })),
    )
  }

  /** The built-in traits, then those the rules file declares. */
  traits(): Promise<TraitInfo[]> {
    const builtin = KNOWN_TRAITS.map((name): TraitInfo => ({ name, type: TRAITS[name], kind: 'builtin', description: PREDICTED_TRAIT_DESCRIPTIONS[name] ?? null }))
    const declared = (this.#source.definition().traits ?? []).map((t): TraitInfo =>
      t.kind === 'property'
        ? { name: t.name, type: t.type, kind: 'property', description: t.description ?? null, from: t.from === null ? null : [...t.from], property: t.property.join('.') }
        : { name: t.name, type: t.type, kind: 'computed', description: t.description ?? null, compute: t.text },
    )
    return Promise.resolve([...builtin, ...declared])
  }

  /**
   * Undefined when the tenant's rules have no such segment; otherwise the segment's index in the
   * rules a user is read with (−1: not in them). Partitions switch a tenant's rules at their own
   * point of the log, so the index is looked up per rule set, once each.
   */
  private segmentIndex(tenant: string, name: string): ((rules: EngineRules) => number) | undefined {
    if (!this.#source.definition(tenant).segments.some((s) => s.name === name)) return undefined
    const known = new Map<EngineRules, number>()
    return (rules) => {
      let i = known.get(rules)
      if (i === undefined) known.set(rules, (i = rules.compiled.segments.findIndex((s) => s.name === name)))
      return i
    }
  }
}
