/**
 * The leader's cooperative assignment (src/log/kafka/group/cooperative-assignor.ts): a few hand-made
 * generations, then a property test that replays random groups (random owners, including partitions
 * claimed twice after a zombie, and members joining and leaving) through rebalances, feeding each
 * generation's assignment back as the members' owned partitions, as the group protocol does. Each
 * generation must never give a partition held by one member to another, and the group must settle in
 * at most two generations, balanced, with every partition held and unmoved partitions never revoked.
 */
import { describe, expect, it } from 'vitest'
import { assignCooperative, type CooperativeAssignment } from '../../src/log/kafka/group/cooperative-assignor.ts'
import { mulberry32, type Rng } from '../support/prng.ts'

type Owners = Map<string, number[]>
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i)
const owners = (o: Record<string, number[]>): Owners => new Map(Object.entries(o))
const plain = (a: CooperativeAssignment) => Object.fromEntries(a.assignments)

/** The safety and stickiness rules of one generation, given what each member owned going in. */
function checkGeneration(input: Owners, partitions: number, out: CooperativeAssignment, seed: number): void {
  const where = `seed ${seed}, owners ${JSON.stringify(Object.fromEntries(input))}, P=${partitions}`
  expect([...out.assignments.keys()].sort(), where).toEqual([...input.keys()].sort())
  const holder = new Map<number, string>()
  for (const [m, given] of out.assignments) {
    for (const p of given) {
      expect(p >= 0 && p < partitions, `${where}: ${m} got partition ${p}`).toBe(true)
      // No partition assigned to two members.
      expect(holder.get(p), `${where}: partition ${p} given to ${holder.get(p)} and ${m}`).toBeUndefined()
      holder.set(p, m)
      // Cooperative: never handed over while another member still holds it.
      for (const [other, theirs] of input) if (other !== m) expect(theirs.includes(p), `${where}: ${p} given to ${m} while ${other} holds it`).toBe(false)
    }
  }
  // revoked = owned minus given, and the flag says whether there was any.
  let any = false
  for (const [m, owned] of input) {
    const given = new Set(out.assignments.get(m))
    const lost = [...new Set(owned)].filter((p) => !given.has(p)).sort((a, b) => a - b)
    expect(out.revoked.get(m) ?? [], `${where}: revoked of ${m}`).toEqual(lost)
    if (lost.length > 0) any = true
  }
  expect(out.revocation, where).toBe(any)
  // Sticky: a member keeps what it alone owns, up to the floor of a fair share at least.
  const floor = Math.floor(partitions / input.size)
  for (const [m, owned] of input) {
    const sole = [...new Set(owned)].filter((p) => p >= 0 && p < partitions && [...input].every(([o, t]) => o === m || !t.includes(p)))
    const kept = sole.filter((p) => out.assignments.get(m)!.includes(p))
    expect(kept.length, `${where}: ${m} kept ${kept.length} of ${sole.length}`).toBeGreaterThanOrEqual(Math.min(sole.length, floor))
  }
  // Deterministic whatever order the members come in.
  const reversed = new Map([...input].reverse())
  expect(plain(assignCooperative(reversed, partitions)), where).toEqual(plain(out))
}

/** Rebalances until no member revokes; returns the settled owners and every generation's revocations. */
function settle(start: Owners, partitions: number, seed: number): { owners: Owners; rounds: number; revoked: Array<Map<string, number[]>> } {
  let current = start
  const revoked: Array<Map<string, number[]>> = []
  for (let round = 1; round <= 5; round++) {
    const out = assignCooperative(current, partitions)
    checkGeneration(current, partitions, out, seed)
    revoked.push(out.revoked)
    current = out.assignments
    if (!out.revocation) return { owners: current, rounds: round, revoked }
  }
  throw new Error(`seed ${seed}: no settled assignment after 5 generations`)
}

function checkSettled(settled: Owners, partitions: number, where: string): void {
  const sizes = [...settled.values()].map((a) => a.length)
  expect(Math.max(...sizes) - Math.min(...sizes), `${where}: sizes ${sizes.join(',')}`).toBeLessThanOrEqual(1)
  expect(
    [...settled.values()].flat().sort((a, b) => a - b),
    where,
  ).toEqual(range(0, partitions))
}

function randomOwners(rng: Rng, members: string[], partitions: number): Owners {
  const out: Owners = new Map(members.map((m) => [m, []]))
  const pick = () => members[Math.floor(rng() * members.length)]!
  for (let p = 0; p < partitions; p++) {
    const r = rng()
    if (r < 0.3) continue
    out.get(pick())!.push(p)
    // A zombie: a second member still claims it.
    if (r > 0.9) out.get(pick())!.push(p)
  }
  // Now and then a claim outside the topic (a member that saw more partitions).
  if (rng() < 0.1) out.get(pick())!.push(partitions + 1)
  return out
}

describe('cooperative assignor', () => {
  it('gives a lone member everything, and nobody anything when the group is empty', () => {
    expect(plain(assignCooperative(owners({ a: [] }), 8))).toEqual({ a: range(0, 8) })
    expect(assignCooperative(new Map(), 8)).toEqual({ assignments: new Map(), revoked: new Map(), revocation: false })
  })

  it('moves half to a joining member in two generations, the moved half revoked first', () => {
    const first = assignCooperative(owners({ a: range(0, 8), b: [] }), 8)
    expect(plain(first)).toEqual({ a: [0, 1, 2, 3], b: [] })
    expect(first.revoked).toEqual(new Map([['a', [4, 5, 6, 7]]]))
    expect(first.revocation).toBe(true)
    const second = assignCooperative(first.assignments, 8)
    expect(plain(second)).toEqual({ a: [0, 1, 2, 3], b: [4, 5, 6, 7] })
    expect(second.revocation).toBe(false)
  })

  it('hands a leaver’s partitions out at once, to the members with the fewest', () => {
    const out = assignCooperative(owners({ a: [0, 1, 2], b: [3, 4, 5] }), 9)
    expect(plain(out)).toEqual({ a: [0, 1, 2, 6, 8], b: [3, 4, 5, 7] })
    expect(out.revocation).toBe(false)
  })

  it('gives a partition claimed by two members to neither, then to one of them', () => {
    const first = assignCooperative(owners({ a: [0, 1], b: [1, 2, 3] }), 4)
    expect(plain(first)).toEqual({ a: [0], b: [2, 3] })
    expect(first.revoked).toEqual(
      new Map([
        ['a', [1]],
        ['b', [1]],
      ]),
    )
    expect(plain(assignCooperative(first.assignments, 4))).toEqual({ a: [0, 1], b: [2, 3] })
  })

  it('property: random owners settle in at most two generations, never double-assigned, balanced', () => {
    for (let seed = 1; seed <= 600; seed++) {
      const rng = mulberry32(seed)
      const partitions = 1 + Math.floor(rng() * 24)
      const members = range(0, 1 + Math.floor(rng() * 6)).map((i) => `m-${seed}-${i}`)
      const { owners: settled, rounds } = settle(randomOwners(rng, members, partitions), partitions, seed)
      expect(rounds, `seed ${seed}`).toBeLessThanOrEqual(2)
      checkSettled(settled, partitions, `seed ${seed}`)
    }
  })

  it('property: members joining and leaving settle in at most two generations, and unmoved partitions are never revoked', () => {
    for (let seed = 1; seed <= 150; seed++) {
      const rng = mulberry32(10_000 + seed)
      const partitions = 1 + Math.floor(rng() * 32)
      let next = 0
      let group: Owners = settle(new Map([[`j${next++}`, []]]), partitions, seed).owners
      for (let step = 0; step < 12; step++) {
        const start: Owners = new Map(group)
        const joins = rng() < 0.6 ? 1 + Math.floor(rng() * 2) : 0
        for (let i = 0; i < joins; i++) start.set(`j${next++}`, [])
        const leaves = start.size > 1 && rng() < 0.5 ? 1 : 0
        for (let i = 0; i < leaves; i++) start.delete([...start.keys()][Math.floor(rng() * start.size)]!)
        const where = `seed ${seed} step ${step}`
        const { owners: settled, rounds, revoked } = settle(start, partitions, seed)
        expect(rounds, where).toBeLessThanOrEqual(2)
        checkSettled(settled, partitions, where)
        for (const [m, before] of start) {
          const stayed = before.filter((p) => settled.get(m)?.includes(p))
          for (const r of revoked)
            expect(
              stayed.filter((p) => r.get(m)?.includes(p)),
              `${where}: ${m} revoked partitions it kept`,
            ).toEqual([])
        }
        group = settled
      }
    }
  })
})
