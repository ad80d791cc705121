/*
 * The group leader's assignment of one topic's partitions, cooperative as in KIP-429: a partition
 * never goes straight from one member to another within a generation. The leader first computes a
 * balanced, sticky target; a partition that must move is taken from its owner now and given to its
 * new member only in the next generation, once the owner has revoked it (stopped work on it) and
 * rejoined without it. So no two members ever hold a partition at once, and partitions that do not
 * move are never revoked (unlike the eager protocol, which revokes everything on every rebalance).
 *
 * Pure and deterministic (members are taken in memberId order whatever the input order), so the
 * property tests can replay generations, and any leader computes the same answer.
 */

export interface CooperativeAssignment {
  /** Every member's partitions for this generation, sorted; a member given none maps to []. */
  assignments: Map<string, number[]>
  /** Per member, the partitions it owned that it is not given now (only members that lose some). */
  revoked: Map<string, number[]>
  /** True when any member must revoke: a follow-up rebalance then completes the moves. */
  revocation: boolean
}

/**
 * `owners`: each member's owned partitions as its subscription says (ownedPartitions of the one
 * topic); `partitionCount`: the topic's partitions, 0..partitionCount-1.
 */
export function assignCooperative(owners: ReadonlyMap<string, readonly number[]>, partitionCount: number): CooperativeAssignment {
  const members = [...owners.keys()].sort(compareIds)
  const assignments = new Map<string, number[]>()
  const revoked = new Map<string, number[]>()
  if (members.length === 0) return { assignments, revoked, revocation: false }

  // Who claims each partition. Claims outside the topic are dropped (and so revoked below). A
  // partition claimed by two members (one of them a zombie that missed a generation) is contested:
  // neither keeps it, and it is handed out again once both have let it go.
  const claims = new Map<number, string[]>()
  const owned = new Map<string, number[]>()
  for (const m of members) {
    const mine = [...new Set(owners.get(m))].filter((p) => Number.isInteger(p) && p >= 0 && p < partitionCount).sort((a, b) => a - b)
    owned.set(m, mine)
    for (const p of mine) claims.set(p, [...(claims.get(p) ?? []), m])
  }
  const soleOwner = (p: number): string | undefined => {
    const c = claims.get(p)
    return c?.length === 1 ? c[0] : undefined
  }
  const kept = new Map<string, number[]>(members.map((m) => [m, owned.get(m)!.filter((p) => soleOwner(p) === m)]))

  // Balance: everyone gets floor(P/n), and `extra` members one more. The extra places go to the
  // members that already own more than the floor (most first), so as few partitions as possible move.
  const floor = Math.floor(partitionCount / members.length)
  let extra = partitionCount % members.length
  const quota = new Map<string, number>(members.map((m) => [m, floor]))
  const byHoldings = [...members].sort((a, b) => kept.get(b)!.length - kept.get(a)!.length || compareIds(a, b))
  for (const m of byHoldings) {
    if (extra === 0) break
    quota.set(m, floor + 1)
    extra--
  }

  // Target: each member keeps its lowest owned partitions up to its quota; everything else (unowned,
  // contested, or over a member's quota) goes, lowest partition first, to the member with the fewest.
  const target = new Map<string, number[]>()
  const placed = new Set<number>()
  for (const m of members) {
    const keep = kept.get(m)!.slice(0, quota.get(m))
    target.set(m, keep)
    for (const p of keep) placed.add(p)
  }
  for (let p = 0; p < partitionCount; p++) {
    if (placed.has(p)) continue
    let best: string | undefined
    for (const m of members) {
      const size = target.get(m)!.length
      if (size < quota.get(m)! && (best === undefined || size < target.get(best)!.length)) best = m
    }
    // The quotas sum to the partition count, so a place is always left.
    target.get(best!)!.push(p)
  }

  // The cooperative rule: a member gets a targeted partition now only if it already holds it or
  // nobody claims it. One still held by another member (or contested) waits for the next generation.
  let revocation = false
  for (const m of members) {
    const given = target
      .get(m)!
      .filter((p) => soleOwner(p) === m || !claims.has(p))
      .sort((a, b) => a - b)
    assignments.set(m, given)
    const givenSet = new Set(given)
    const lost = [...new Set(owners.get(m))].filter((p) => !givenSet.has(p)).sort((a, b) => a - b)
    if (lost.length > 0) {
      revoked.set(m, lost)
      revocation = true
    }
  }
  return { assignments, revoked, revocation }
}

/** Plain code-unit order, as Java's String.compareTo: the same on every leader, whatever the locale. */
function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
