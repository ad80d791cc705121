import { setTimeout as sleep } from 'node:timers/promises'
import { ConnectionPool, findCoordinatorV4, heartbeatV4, joinGroupV9, leaveGroupV5, syncGroupV5, type Admin, type Connection, type ConnectionOptions } from '@platformatic/kafka'
import { isRetriable } from '../kafka-errors.ts'
import type { Logger } from '../../../logger.ts'
import type { PartitionGroup, PartitionGroupOptions } from '../../event-log.ts'
import { assign, decodeAssignment, decodeSubscription, partitionsOf, subscribe } from './consumer-protocol.ts'
import { assignCooperative } from './cooperative-assignor.ts'

/*
 * One member of a Kafka consumer group (the classic protocol: JoinGroup, SyncGroup, Heartbeat,
 * LeaveGroup) that owns partitions of one topic and never fetches: our own fetcher reads them. The
 * broker only counts members and relays the leader's assignment; the leader of each generation runs
 * the cooperative assignor (cooperative-assignor.ts) over the members' ownedPartitions.
 *
 * Cooperative (KIP-429): a rebalance does not take partitions away. A member rejoins keeping them,
 * and only the ones the new assignment leaves out are revoked (onRevoked, awaited), after which it
 * rejoins at once so the next generation can hand them to their new owner. A member that has lost its
 * membership (the coordinator says so, or it heard nothing for a whole session by its own clock, when
 * the coordinator has certainly given its partitions away) revokes everything and joins again.
 */

/** The port's options (src/log/event-log.ts), with the names already prefixed and the client to reach the cluster with. */
export interface GroupMemberOptions extends Omit<PartitionGroupOptions, 'group' | 'member'> {
  admin: Admin
  clientId: string
  connection?: ConnectionOptions
  /** Already prefixed by the caller, as `topic`. */
  groupId: string
}

const COORDINATOR_GROUP = 0
// "consumer" makes kafka-consumer-groups decode our subscriptions and assignments (consumer-protocol.ts).
const PROTOCOL_TYPE = 'consumer'
// Our own assignor's name: a Java consumer joining the same group by mistake is refused
// (INCONSISTENT_GROUP_PROTOCOL) instead of assigning by rules our members do not follow.
const PROTOCOL_NAME = 'tagstream-cooperative'
/** What a failed group request means: rejoin keeping partitions, membership lost (and the member id forgotten: the coordinator did), find the coordinator again, or give up. */
type Failure = 'rejoin' | 'lost' | 'forgotten' | 'coordinator' | 'fatal'
type Outcome = 'rejoin' | 'lost' | 'forgotten' | 'stopped'
type Heartbeats = { outcome: Promise<Outcome>; stop(): Promise<Outcome> }
type Findable = { findBy?: (property: string, value: unknown) => Record<string, unknown> | null } | null
const coordinatorMoved = ['NOT_COORDINATOR', 'COORDINATOR_NOT_AVAILABLE', 'COORDINATOR_LOAD_IN_PROGRESS'].map((id): [string, Failure] => [id, 'coordinator'])
const FAILURES = new Map<string, Failure>([
  ['REBALANCE_IN_PROGRESS', 'rejoin'],
  ['ILLEGAL_GENERATION', 'lost'],
  ['UNKNOWN_MEMBER_ID', 'forgotten'],
  ['FENCED_INSTANCE_ID', 'forgotten'],
  ...coordinatorMoved,
])

function classify(err: unknown): Failure {
  const answer = (err as Findable)?.findBy?.('code', 'PLT_KFK_PROTOCOL')
  const known = answer ? FAILURES.get(String(answer.apiId)) : undefined
  if (known) return known
  // No answer at all (connection dropped, request timed out): look for the coordinator again.
  if (!answer && (err as Findable)?.findBy?.('code', 'PLT_KFK_NETWORK')) return 'coordinator'
  return isRetriable(err) ? 'coordinator' : 'fatal'
}

/** The broker's refusals a user can fix, in words naming the setting on each side. */
function explained(err: unknown, o: GroupMemberOptions): unknown {
  const refusal = (err as Findable)?.findBy?.('code', 'PLT_KFK_PROTOCOL')?.apiId
  if (refusal !== 'INVALID_SESSION_TIMEOUT') return err
  return new Error(
    `the Kafka brokers refused a group session timeout of ${o.sessionTimeoutMs} ms (INVALID_SESSION_TIMEOUT): it must lie within their group.min.session.timeout.ms (default 6000) and ` +
      'group.max.session.timeout.ms. Lower group.min.session.timeout.ms on the brokers (scripts/kafka/start.sh sets 500) or raise --session-ms (TAGSTREAM_SESSION_MS); ' +
      "the session timeout is how long a dead worker's partitions wait to move (docs/deployment.md)",
    { cause: err },
  )
}

const retriable = (message: string): Error => Object.assign(new Error(message), { canRetry: true })

export class GroupMember implements PartitionGroup {
  private readonly pool: ConnectionPool
  private readonly log: Logger
  private connection: Connection | null = null
  private memberId = ''
  private generationId = -1
  private readonly held = new Set<number>()
  /** When the coordinator last answered us as a member: a session without an answer means the membership is gone. */
  private lastContact = Date.now()
  private active = false
  private killed = false
  private readonly abort = new AbortController()
  private heartbeats: Heartbeats | null = null
  private loop: Promise<void> | null = null
  private stopping: Promise<void> | null = null
  private firstAssignment: { resolve(): void; reject(err: Error): void } | null = null

  constructor(private readonly options: GroupMemberOptions) {
    // A JoinGroup is answered only when the rebalance completes, which may take the whole rebalance timeout.
    const requestTimeout = Math.max(options.connection?.requestTimeout ?? 30_000, options.rebalanceTimeoutMs + 5_000)
    this.pool = new ConnectionPool(options.clientId, { ...options.connection, requestTimeout })
    this.log = options.logger.child({ group: options.groupId, topic: options.topic })
  }

  get generation(): { id: number; memberId: string } {
    return { id: this.generationId, memberId: this.memberId }
  }

  owned(): number[] {
    return [...this.held].sort((a, b) => a - b)
  }

  /** Joins the group; resolves once the first generation's assignment has been applied (possibly none). */
  start(): Promise<void> {
    if (this.loop) throw new Error('GroupMember already started')
    this.active = true
    return new Promise((resolve, reject) => {
      this.firstAssignment = { resolve, reject }
      this.loop = this.run()
        .catch((err: Error) => {
          this.log.error({ err }, 'consumer group membership failed')
          this.firstAssignment?.reject(err)
        })
        .finally(() => this.firstAssignment?.reject(new Error('GroupMember stopped before its first assignment')))
    })
  }

  /** Revokes everything (awaited), then leaves the group, so the others rebalance at once instead of after our session. */
  stop(): Promise<void> {
    return (this.stopping ??= this.leave())
  }

  private async leave(): Promise<void> {
    if (this.killed) return
    this.active = false
    this.abort.abort()
    await this.heartbeats?.stop()
    // A JoinGroup in flight is answered when the rebalance completes (the others rejoin within a heartbeat).
    await this.loop
    const all = this.owned()
    if (all.length > 0) await this.revoke(all, 'stopping')
    if (this.memberId !== '') {
      try {
        await leaveGroupV5.api.async(await this.coordinator(), this.options.groupId, [{ memberId: this.memberId, groupInstanceId: null, reason: 'stopping' }])
      } catch (err) {
        this.log.warn({ err }, 'LeaveGroup failed; the coordinator drops us when the session expires')
      }
    }
    this.memberId = ''
    this.generationId = -1
    await this.pool.close()
  }

  /** Test hook: the process died. No callbacks, no LeaveGroup; the coordinator notices when the session expires. */
  kill(): void {
    this.killed = true
    this.active = false
    this.abort.abort()
    void this.heartbeats?.stop()
    this.pool.close().catch(() => undefined)
  }

  private async run(): Promise<void> {
    for (let failures = 0; this.active;) {
      try {
        const assigned = await this.joinAndSync()
        if (!this.active) return
        failures = 0
        const heartbeats = (this.heartbeats = this.startHeartbeats())
        const revoked = await this.apply(assigned)
        this.firstAssignment?.resolve()
        this.firstAssignment = null
        // Heartbeats go on during the callbacks; a member that revoked rejoins now so its partitions move on.
        if (revoked) await heartbeats.stop()
        const outcome = await heartbeats.outcome
        this.heartbeats = null
        if (outcome === 'lost' || outcome === 'forgotten') await this.lose('the coordinator refused our heartbeat, or none was answered within the session timeout', outcome === 'forgotten')
      } catch (err) {
        await this.heartbeats?.stop()
        this.heartbeats = null
        if (!this.active) return
        const failure = classify(err)
        if (failure === 'rejoin') continue
        if (failure === 'lost' || failure === 'forgotten') {
          await this.lose((err as Error).message, failure === 'forgotten')
          continue
        }
        if (failure === 'fatal' && this.firstAssignment) throw explained(err, this.options)
        this.log.warn({ err, failures }, 'consumer group request failed; retrying')
        this.connection = null
        if (this.held.size > 0 && this.sessionLeft() <= 0) await this.lose('no answer from the coordinator within the session timeout', false)
        failures++
        await this.pause(Math.min(1_000, 25 * 2 ** failures))
      }
    }
  }

  private async joinAndSync(): Promise<number[]> {
    const o = this.options
    const metadata = subscribe(o.topic, this.owned())
    for (;;) {
      const c = await this.coordinator()
      let joined: joinGroupV9.JoinGroupResponse
      try {
        joined = await joinGroupV9.api.async(c, o.groupId, o.sessionTimeoutMs, o.rebalanceTimeoutMs, this.memberId, null, PROTOCOL_TYPE, [{ name: PROTOCOL_NAME, metadata }], null)
      } catch (err) {
        // A new member is named by the coordinator first and joins again under that name (KIP-394).
        const named = (err as Findable)?.findBy?.('apiId', 'MEMBER_ID_REQUIRED')?.memberId
        if (typeof named !== 'string' || named === '') throw err
        this.memberId = named
        continue
      }
      this.lastContact = Date.now()
      if (joined.memberId) this.memberId = joined.memberId
      this.generationId = joined.generationId
      const assignments = joined.leader === this.memberId ? this.lead(joined.members) : []
      if (!this.active) return []
      const synced = await syncGroupV5.api.async(c, o.groupId, this.generationId, this.memberId, null, PROTOCOL_TYPE, joined.protocolName, assignments)
      this.lastContact = Date.now()
      return partitionsOf(decodeAssignment(synced.assignment).assignedPartitions, o.topic)
        .filter((p) => p >= 0 && p < o.partitions)
        .sort((a, b) => a - b)
    }
  }

  /** The leader's work: every member's assignment from what their subscriptions say they own. */
  private lead(members: joinGroupV9.JoinGroupResponseMember[]): syncGroupV5.SyncGroupRequestAssignment[] {
    const { topic, partitions } = this.options
    const owners = new Map(members.map((m) => [m.memberId, this.ownedBy(m)]))
    const result = assignCooperative(owners, partitions)
    if (result.revocation) this.log.info({ generation: this.generationId, revoked: Object.fromEntries(result.revoked) }, 'partitions revoked first, handed over next generation')
    return [...result.assignments].map(([memberId, given]) => ({ memberId, assignment: assign(topic, given) }))
  }

  private ownedBy(m: joinGroupV9.JoinGroupResponseMember): number[] {
    try {
      return m.metadata ? partitionsOf(decodeSubscription(m.metadata).ownedPartitions, this.options.topic) : []
    } catch (err) {
      // Such a member cannot be trusted to hold anything; it still gets a share.
      this.log.warn({ err, memberId: m.memberId }, 'unreadable subscription; taking it as owning nothing')
      return []
    }
  }

  /** Revokes what the new assignment leaves out, then takes up the new ones; true when anything was revoked. */
  private async apply(assigned: number[]): Promise<boolean> {
    const next = new Set(assigned)
    const revoked = this.owned().filter((p) => !next.has(p))
    const added = assigned.filter((p) => !this.held.has(p))
    if (revoked.length > 0) await this.revoke(revoked, 'rebalance')
    if (!this.active || added.length === 0) return revoked.length > 0
    for (const p of added) this.held.add(p)
    this.log.info({ generation: this.generationId, partitions: added }, 'partitions assigned')
    await this.call('onAssigned', added)
    return revoked.length > 0
  }

  /** The partitions stay ours until onRevoked returns: that is what makes the hand-over safe. */
  private async revoke(partitions: number[], reason: string): Promise<void> {
    this.log.info({ generation: this.generationId, partitions, reason }, 'partitions revoked')
    await this.call('onRevoked', partitions)
    for (const p of partitions) this.held.delete(p)
  }

  /** A failing callback is the caller's bug; it must not stop the membership (revoked partitions are given up anyway). */
  private async call(callback: 'onAssigned' | 'onRevoked', partitions: number[]): Promise<void> {
    try {
      await this.options[callback](partitions)
    } catch (err) {
      this.log.error({ err, partitions }, `${callback} failed`)
    }
  }

  /**
   * The membership is gone (or must be assumed gone): every partition may already be someone else's.
   * The member id is kept unless the coordinator forgot it, so the next join does not leave a stale
   * member behind that the rebalance would wait for.
   */
  private async lose(reason: string, forgetMemberId: boolean): Promise<void> {
    const all = this.owned()
    this.log.warn({ reason, generation: this.generationId, owned: all }, 'consumer group membership lost')
    if (all.length > 0) await this.revoke(all, 'lost')
    this.generationId = -1
    if (forgetMemberId) this.memberId = ''
  }

  /** Heartbeats of this generation until the coordinator asks for a rejoin, the membership is lost, or stop(). */
  private startHeartbeats(): Heartbeats {
    const stopped = new AbortController()
    const outcome = this.beat(this.generationId, this.memberId, stopped.signal)
    return { outcome, stop: () => (stopped.abort(), outcome) }
  }

  private async beat(generationId: number, memberId: string, stopped: AbortSignal): Promise<Outcome> {
    while (await this.pause(this.options.heartbeatMs, stopped)) {
      try {
        await this.withinSession(heartbeatV4.api.async(await this.coordinator(), this.options.groupId, generationId, memberId, null))
        this.lastContact = Date.now()
      } catch (err) {
        if (stopped.aborted || !this.active) break
        const failure = classify(err)
        if (failure === 'rejoin' || failure === 'fatal') return 'rejoin'
        if (failure === 'lost' || failure === 'forgotten') return failure
        this.connection = null
        if (this.sessionLeft() <= 0) return 'lost'
      }
    }
    return 'stopped'
  }

  /** A heartbeat that hangs counts as failed once the session it was meant to keep is over. */
  private async withinSession<T>(request: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined
    const deadline = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(retriable('heartbeat unanswered until the session ended')), Math.max(1, this.sessionLeft()))))
    return Promise.race([request, deadline]).finally(() => clearTimeout(timer))
  }

  private sessionLeft(): number {
    return this.options.sessionTimeoutMs - (Date.now() - this.lastContact)
  }

  /** Waits `ms`; false when stopped meanwhile (stop() and kill() stop the heartbeats' signal too). */
  private async pause(ms: number, signal: AbortSignal = this.abort.signal): Promise<boolean> {
    try {
      await sleep(ms, undefined, { signal })
      return this.active
    } catch {
      return false
    }
  }

  private async coordinator(): Promise<Connection> {
    if (this.connection) return this.connection
    const metadata = await this.options.admin.metadata({ topics: [] })
    const any = await this.pool.getFirstAvailable([...metadata.brokers.values()])
    const found = (await findCoordinatorV4.api.async(any, COORDINATOR_GROUP, [this.options.groupId])).coordinators[0]
    if (!found || found.nodeId < 0) throw retriable(`no group coordinator for "${this.options.groupId}" yet`)
    this.connection = await this.pool.get({ host: found.host, port: found.port })
    return this.connection
  }
}
