/**
 * Consumer-group membership on the real broker (src/log/kafka/group/group-member.ts): cooperative
 * rebalances hand a partition to its new member only after the old one revoked it, and never revoke
 * what stays; stop() hands everything over at once; a member that dies is dropped after its session
 * and the survivor takes its partitions; Kafka's own kafka-consumer-groups reads our members and
 * their assignments (the standard consumer-protocol bytes, checked byte for byte here too).
 *
 * Needs the broker's group.min.session.timeout.ms below 1500 (scripts/kafka/start.sh sets 500).
 */
import { execFile } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { resolve } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { Admin } from '@platformatic/kafka'
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest'
import { createLogger } from '../../src/logger.ts'
import { decodeAssignment, decodeSubscription, encodeAssignment, encodeSubscription } from '../../src/log/kafka/group/consumer-protocol.ts'
import { GroupMember } from '../../src/log/kafka/group/group-member.ts'
import { TEST_BROKER, dropTopics } from '../support/kafka-topics.ts'
import { until } from '../support/until.ts'

const PARTITIONS = 8
const prefix = `test-kgroup-${randomUUID().slice(0, 8)}-`
const topic = `${prefix}work`
const logger = createLogger('kafka-group-test', 'warn')
const range = (n: number) => Array.from({ length: n }, (_, i) => i)

interface Event {
  seq: number
  at: number
  member: string
  kind: 'assigned' | 'revoked'
  partitions: number[]
}

let admin: Admin
let seq = 0
const running: GroupMember[] = []

beforeAll(async () => {
  const startError = inject('kafkaStartError')
  if (startError) throw new Error(startError)
  admin = new Admin({ clientId: 'tagstream-test-group', bootstrapBrokers: [TEST_BROKER] })
  await admin.createTopics({ topics: [topic], partitions: PARTITIONS, replicas: 1 })
})
afterEach(async () => {
  await Promise.all(running.splice(0).map((m) => m.stop()))
})
afterAll(async () => {
  await admin?.close()
  await dropTopics(prefix)
})

/**
 * A member that records its callbacks. onRevoked takes 100 ms and its event is recorded when it
 * returns (that is when the partitions are released), so a hand-over that did not wait shows.
 */
function member(name: string, groupId: string, events: Event[], timing = { sessionTimeoutMs: 6_000, heartbeatMs: 200 }, log = logger): GroupMember {
  const record = (kind: Event['kind'], partitions: number[]): void => {
    events.push({ seq: seq++, at: performance.now(), member: name, kind, partitions: [...partitions] })
  }
  const m = new GroupMember({
    admin,
    clientId: `tagstream-test-${name}`,
    groupId,
    topic,
    partitions: PARTITIONS,
    rebalanceTimeoutMs: 10_000,
    logger: log,
    ...timing,
    onAssigned: (partitions) => record('assigned', partitions),
    onRevoked: async (partitions) => {
      await sleep(100)
      record('revoked', partitions)
    },
  })
  running.push(m)
  return m
}

/** Replays the events: a partition is never assigned while another member still holds it. */
function checkNeverShared(events: readonly Event[]): void {
  const holder = new Map<number, string>()
  for (const e of [...events].sort((a, b) => a.seq - b.seq)) {
    for (const p of e.partitions) {
      if (e.kind === 'revoked') {
        expect(holder.get(p), `${e.member} revoked ${p}`).toBe(e.member)
        holder.delete(p)
      } else {
        expect(holder.get(p), `${p} assigned to ${e.member} while ${holder.get(p)} holds it`).toBeUndefined()
        holder.set(p, e.member)
      }
    }
  }
}

/** The partitions among `among` that `member` was ever told to revoke. */
const revokedOf = (events: readonly Event[], member: string, among: readonly number[]) =>
  events
    .filter((e) => e.member === member && e.kind === 'revoked')
    .flatMap((e) => e.partitions)
    .filter((p) => among.includes(p))

const settled = (a: GroupMember, b: GroupMember) => a.owned().length === 4 && b.owned().length === 4

async function pair(groupId: string, events: Event[], timing?: { sessionTimeoutMs: number; heartbeatMs: number }): Promise<[GroupMember, GroupMember]> {
  const a = member('a', groupId, events, timing)
  await a.start()
  await until('a to hold all 8', () => a.owned().length === PARTITIONS, 10_000)
  const b = member('b', groupId, events, timing)
  await b.start()
  await until('a and b to hold 4 each', () => settled(a, b), 15_000, 20)
  return [a, b]
}

function tool(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(resolve('scripts/kafka/tool.sh'), args, { encoding: 'utf8', timeout: 55_000 }, (error, stdout, stderr) => {
      done({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr })
    })
  })
}

describe('consumer-protocol bytes', () => {
  it('writes ConsumerProtocolSubscription and ConsumerProtocolAssignment version 1 as the Java client does', () => {
    const sub = encodeSubscription({ topics: ['t'], userData: null, ownedPartitions: [{ topic: 't', partitions: [1, 2] }] })
    expect(sub.toString('hex')).toBe('0001' + '00000001' + '000174' + 'ffffffff' + '00000001' + '000174' + '00000002' + '00000001' + '00000002')
    expect(decodeSubscription(sub)).toEqual({ topics: ['t'], userData: null, ownedPartitions: [{ topic: 't', partitions: [1, 2] }] })
    const asg = encodeAssignment({ assignedPartitions: [{ topic: 't', partitions: [0, 3] }], userData: Buffer.from([9]) })
    expect(asg.toString('hex')).toBe('0001' + '00000001' + '000174' + '00000002' + '00000000' + '00000003' + '00000001' + '09')
    expect(decodeAssignment(asg)).toEqual({ assignedPartitions: [{ topic: 't', partitions: [0, 3] }], userData: Buffer.from([9]) })
  })

  it('reads version 0 (no owned partitions), a newer version as far as it knows, and refuses truncated bytes', () => {
    const v0 = Buffer.from('0000' + '00000001' + '000174' + '00000000', 'hex')
    expect(decodeSubscription(v0)).toEqual({ topics: ['t'], userData: Buffer.alloc(0), ownedPartitions: [] })
    // Version 3 appends generation id and rack id after the owned partitions.
    const v3 = Buffer.from('0003' + '00000001' + '000174' + 'ffffffff' + '00000001' + '000174' + '00000001' + '00000005' + '00000007' + '0002' + '7231', 'hex')
    expect(decodeSubscription(v3).ownedPartitions).toEqual([{ topic: 't', partitions: [5] }])
    expect(() => decodeSubscription(v3.subarray(0, 20))).toThrow(/truncated/)
    expect(decodeAssignment(Buffer.alloc(0))).toEqual({ assignedPartitions: [], userData: null })
  })
})

describe('GroupMember on Kafka', () => {
  it('moves half to a second member cooperatively: revoked by the first before given to the second, the rest never revoked', async () => {
    const events: Event[] = []
    const [a, b] = await pair(`${prefix}coop`, events)
    // Nothing moves afterwards.
    await sleep(600)
    expect(settled(a, b)).toBe(true)
    checkNeverShared(events)
    const moved = b.owned()
    const revokedByA = events.filter((e) => e.member === 'a' && e.kind === 'revoked').flatMap((e) => e.partitions)
    expect(revokedByA.sort((x, y) => x - y)).toEqual(moved)
    for (const p of moved) {
      const revoked = events.find((e) => e.member === 'a' && e.kind === 'revoked' && e.partitions.includes(p))!
      const given = events.find((e) => e.member === 'b' && e.kind === 'assigned' && e.partitions.includes(p))!
      expect(revoked.seq).toBeLessThan(given.seq)
      expect(revoked.at).toBeLessThanOrEqual(given.at)
    }
    expect(a.owned().filter((p) => revokedByA.includes(p))).toEqual([])
    expect([...a.owned(), ...b.owned()].sort((x, y) => x - y)).toEqual(range(PARTITIONS))
    expect(a.generation.id).toBe(b.generation.id)
    expect(a.generation.memberId).not.toBe(b.generation.memberId)
  })

  it('stop() revokes and leaves, and the other member holds all 8 within about a second', async () => {
    const events: Event[] = []
    const [a, b] = await pair(`${prefix}stop`, events)
    const kept = a.owned()
    const stoppedAt = performance.now()
    // b's onRevoked (100 ms) is part of the time: the hand-over waits for it.
    await b.stop()
    expect(b.owned()).toEqual([])
    await until('a to hold all 8', () => a.owned().length === PARTITIONS, 5_000, 10)
    const took = performance.now() - stoppedAt
    console.log(`stop → all 8 on the survivor: ${took.toFixed(0)} ms`)
    expect(took).toBeLessThan(1_000)
    checkNeverShared(events)
    expect(revokedOf(events, 'a', kept)).toEqual([])
  })

  it('a member that dies without leaving is dropped after its session, and the survivor takes its partitions', async () => {
    const events: Event[] = []
    const [a, b] = await pair(`${prefix}kill`, events, { sessionTimeoutMs: 1_500, heartbeatMs: 250 })
    const lost = b.owned()
    const kept = a.owned()
    b.kill()
    const killedAt = performance.now()
    const taken = await until('a to be assigned b’s partitions', () => events.find((e) => e.member === 'a' && e.kind === 'assigned' && e.at > killedAt), 10_000, 5)
    const took = taken.at - killedAt
    console.log(`kill → survivor's onAssigned: ${took.toFixed(0)} ms (session 1500 ms, heartbeat 250 ms)`)
    expect(taken.partitions).toEqual(lost)
    expect(took).toBeLessThan(2_500)
    expect(a.owned()).toEqual(range(PARTITIONS))
    expect(revokedOf(events, 'a', kept)).toEqual([])
  })

  it('a member frozen past its session (a long GC pause) gives up everything as lost, then joins again from scratch', async () => {
    const events: Event[] = []
    const groupId = `${prefix}freeze`
    const a = member('a', groupId, events, { sessionTimeoutMs: 6_000, heartbeatMs: 200 })
    await a.start()
    await until('a to hold all 8', () => a.owned().length === PARTITIONS, 10_000)
    const b = member('b', groupId, events, { sessionTimeoutMs: 1_000, heartbeatMs: 200 })
    await b.start()
    await until('a and b to hold 4 each', () => settled(a, b), 15_000, 20)
    const frozen = b.owned()
    const memberBefore = b.generation.memberId
    // The whole process stops (both members, but only b's session is shorter than the pause).
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2_500)
    const thawed = performance.now()
    await until('b to give up its partitions', () => events.find((e) => e.member === 'b' && e.kind === 'revoked' && e.at > thawed), 10_000, 10)
    const lost = events.filter((e) => e.member === 'b' && e.kind === 'revoked' && e.at > thawed)
    expect(lost[0]!.partitions).toEqual(frozen)
    await until('a and b to hold 4 each again', () => settled(a, b), 15_000, 20)
    // The coordinator had dropped b: it came back under a new member id.
    expect(b.generation.memberId).not.toBe(memberBefore)
    expect([...a.owned(), ...b.owned()].sort((x, y) => x - y)).toEqual(range(PARTITIONS))
  })

  it('start() fails with the broker’s refusal, in words naming both settings, when the session is shorter than group.min.session.timeout.ms', async () => {
    const m = member('short', `${prefix}short`, [], { sessionTimeoutMs: 100, heartbeatMs: 50 }, createLogger('kafka-group-test', 'silent'))
    const refused = await m.start().then(
      () => null,
      (err: unknown) => err as Error,
    )
    expect(refused?.message).toContain('the Kafka brokers refused a group session timeout of 100 ms (INVALID_SESSION_TIMEOUT)')
    expect(refused?.message).toContain('group.min.session.timeout.ms')
    expect(refused?.message).toContain('--session-ms')
    // The broker's own answer stays as the cause.
    expect(refused?.cause).toEqual(expect.objectContaining({ errors: [expect.objectContaining({ apiId: 'INVALID_SESSION_TIMEOUT' })] }))
  })

  it('kafka-consumer-groups --describe --members --verbose lists both members and their partitions', async () => {
    const groupId = `${prefix}describe`
    const [a, b] = await pair(groupId, [])
    const r = await tool(['consumer-groups', '--bootstrap-server', TEST_BROKER, '--describe', '--group', groupId, '--members', '--verbose'])
    expect(r.code, r.stderr).toBe(0)
    console.log(r.stdout.trim())
    for (const m of [a, b]) {
      const line = r.stdout.split('\n').find((l) => l.includes(m.generation.memberId))
      expect(line, r.stdout).toBeDefined()
      // Kafka 3.9's tool prints the partitions of each topic without the topic's name.
      expect(line).toMatch(new RegExp(`\\s4\\s+\\(${m.owned().join(',')}\\)\\s*$`))
    }
  }, 60_000)
})
