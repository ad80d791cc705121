import { decodeEventAt, encodeEvent } from '../events/codec.ts'
import { MAX_ID_LENGTH, type TrackedEvent } from '../events/envelope.ts'
import { partitionOfUser } from '../events/partition.ts'
import type { IdentityMessage, IdentityRecord } from './identity-record.ts'
import { LINK, type UserState } from './user-state.ts'

/** The engine as identity linking uses it (PartitionEngine implements it). */
export interface IdentityHost {
  readonly partition: number
  readonly partitions: number
  /** Most ids one person holds, its own included (EngineOptions.identityMaxIds). */
  readonly maxIds: number
  getUser(tenant: string, userId: string): UserState | undefined
  redirectOf(tenant: string, userId: string): string | undefined
  /** Takes an anonymous id out (exits), leaves its redirect, returns its state bytes or null when it had none. */
  release(tenant: string, id: string, person: string): Uint8Array | null
  /** Adds a granted id's state to the person and evaluates; marks the person changed; records the link (the `identities` log); returns the person. */
  absorb(tenant: string, person: string, id: string, state: Uint8Array | null): UserState
  /** Marks a person's links changed (their checkpoint row is rewritten). */
  touch(user: UserState): void
  /** An event to process as the person's own, at `pos` (held if ahead of the watermark). */
  processForwarded(e: TrackedEvent, pos: number): void
  /** Applies an event of an absorbed id as its person's, now, at time T (both ids in this partition). */
  applyAs(e: TrackedEvent, T: number): void
}

/** Identity counters, kept in the checkpoint with the engine's other stats. */
export interface IdentityStats {
  /** Ids absorbed into a person (each link once, on the person's side). */
  linked: number
  /** Links refused: a user id, another person's id, or a person at its limit. */
  refused: number
  /** Events of absorbed ids handed to their person's partition. */
  forwarded: number
}

export function emptyIdentityStats(): IdentityStats {
  return { linked: 0, refused: 0, forwarded: 0 }
}

/**
 * One partition's side of identity resolution (docs/identity.md). A link is a conversation: the
 * person's partition claims an id from the id's partition, which grants it (its state, and a
 * redirect left behind) or refuses; later events of the id are forwarded. Messages for another
 * partition are queued in `out` with a sequence number per receiver; the partition's worker
 * appends them to that partition of the `events` log before the checkpoint that covers them, and
 * `recv` (in the checkpoint) drops the copies a restored sender sends again. Messages for this
 * partition are handled at once. Deterministic, like the rest of the engine.
 */
export class IdentityLinks {
  readonly sent = new Map<number, number>()
  readonly recv = new Map<number, number>()
  /** Records for other partitions, in the order they were made. */
  out: Array<{ partition: number; record: IdentityRecord }> = []
  stats: IdentityStats = emptyIdentityStats()
  /** Why links were refused, the latest first few, for the log. */
  onRefused: ((m: { tenant: string; id: string; person: string; reason: string }) => void) | null = null

  constructor(private readonly host: IdentityHost) {}

  /**
   * After `user`'s event: the ids it names become links of that user (a user id, never an
   * anonymous one: only user ids absorb). `anonymous_id` on every event, `previous_id` on an alias.
   */
  noteIds(user: UserState, e: TrackedEvent): void {
    if (user.anonymous) return
    const anon = e.anonymous_id
    if (anon !== undefined && anon !== user.userId) this.link(user, anon)
    if (e.event === 'alias') {
      const prev = e.properties.previous_id
      if (typeof prev === 'string' && prev.length > 0 && prev.length <= MAX_ID_LENGTH && prev !== user.userId) this.link(user, prev)
    }
  }

  private link(user: UserState, id: string): void {
    const links = (user.links ??= new Map())
    if (links.has(id)) return
    // The person's own id counts: maxIds ids in all.
    if (links.size + 1 >= this.host.maxIds) {
      this.refused(user.tenant, id, user.userId, `the person holds ${this.host.maxIds} ids (identity limit)`)
      return
    }
    links.set(id, LINK.pending)
    this.host.touch(user)
    this.send(this.partitionOf(user.tenant, id), { kind: 'claim', tenant: user.tenant, id, person: user.userId })
  }

  /** An event of an absorbed id, for its person. */
  forward(e: TrackedEvent, person: string, T: number): void {
    const id = e.user_id
    // The person's event in full: an anonymous id it names is linked there in turn; an event with
    // none names the absorbed id, which the person holds already.
    const anon = e.anonymous_id !== undefined && e.anonymous_id !== id ? e.anonymous_id : id
    // Field by field: a decoded event is a view whose event_id is a getter, which a spread would drop.
    const rekeyed: TrackedEvent = { event: e.event, user_id: person, anonymous_id: anon, ts: e.ts, event_id: e.event_id, tenant: e.tenant, received_at: e.received_at, properties: e.properties }
    this.stats.forwarded++
    const target = this.partitionOf(e.tenant, person)
    if (target === this.host.partition) this.host.applyAs(rekeyed, T)
    else this.send(target, { kind: 'forward', tenant: e.tenant, id, person, event: encodeEvent(rekeyed) })
  }

  /**
   * A record of the `events` log from another partition (or, in a replay, handed over in memory).
   * Returns false for a copy already seen.
   */
  receive(r: IdentityRecord, pos: number): boolean {
    const mark = this.recv.get(r.source) ?? 0
    if (r.seq <= mark) return false
    this.recv.set(r.source, r.seq)
    this.handle(r.message, pos)
    return true
  }

  private handle(m: IdentityMessage, pos: number): void {
    if (m.kind === 'claim') this.claimed(m.tenant, m.id, m.person)
    else if (m.kind === 'grant') this.granted(m.tenant, m.id, m.person, m.state)
    else if (m.kind === 'refuse') this.answeredNo(m.tenant, m.id, m.person, m.reason)
    else {
      const b = Buffer.from(m.event.buffer, m.event.byteOffset, m.event.byteLength)
      this.host.processForwarded(decodeEventAt(b, 0, b.length), pos)
    }
  }

  /** The id's side: give the id up, or say why not. Idempotent: a claim answered before is answered the same. */
  private claimed(tenant: string, id: string, person: string): void {
    const back = this.partitionOf(tenant, person)
    const to = this.host.redirectOf(tenant, id)
    let reason: string | null = null
    if (to !== undefined) reason = to === person ? null : 'already linked to another person'
    else {
      // Only a user id links ids of its own, so this also keeps a person from being absorbed.
      const u = this.host.getUser(tenant, id)
      if (u !== undefined && !u.anonymous) reason = 'a user id: two user ids are not merged'
    }
    if (reason !== null) {
      this.send(back, { kind: 'refuse', tenant, id, person, reason })
      return
    }
    const state = to === undefined ? this.host.release(tenant, id, person) : null
    this.send(back, { kind: 'grant', tenant, id, person, state })
  }

  /** The person's side of a grant: the id is theirs, its history added to theirs. */
  private granted(tenant: string, id: string, person: string, state: Uint8Array | null): void {
    this.stats.linked++
    const user = this.host.absorb(tenant, person, id, state)
    ;(user.links ??= new Map()).set(id, LINK.linked)
  }

  private answeredNo(tenant: string, id: string, person: string, reason: string): void {
    const user = this.host.getUser(tenant, person)
    if (user?.links?.has(id) === true) {
      user.links.set(id, LINK.refused)
      this.host.touch(user)
    }
    this.refused(tenant, id, person, reason)
  }

  private refused(tenant: string, id: string, person: string, reason: string): void {
    this.stats.refused++
    this.onRefused?.({ tenant, id, person, reason })
  }

  private send(target: number, message: IdentityMessage): void {
    if (target === this.host.partition) {
      this.handle(message, -1)
      return
    }
    const seq = (this.sent.get(target) ?? 0) + 1
    this.sent.set(target, seq)
    this.out.push({ partition: target, record: { source: this.host.partition, seq, message } })
  }

  /** Records for other partitions since the last call, in order. */
  drain(): Array<{ partition: number; record: IdentityRecord }> {
    const out = this.out
    this.out = []
    return out
  }

  private partitionOf(tenant: string, id: string): number {
    return this.host.partitions <= 1 ? 0 : partitionOfUser(tenant, id, this.host.partitions)
  }
}

/** Marks as a plain object (checkpoint JSON) and back. */
export function marksToJson(m: Map<number, number>): Record<string, number> {
  return Object.fromEntries([...m].sort((a, b) => a[0] - b[0]))
}

export function marksFromJson(m: Record<string, number> | undefined, into: Map<number, number>): void {
  into.clear()
  for (const [k, v] of Object.entries(m ?? {})) if (Number.isSafeInteger(v)) into.set(Number(k), v)
}
