/**
 * The partitions a worker should own: partition p goes to the (p mod n)-th of the n live workers
 * sorted by id. Every worker computes it from the same heartbeat table, so while their views agree
 * no partition is wanted by two of them; while they disagree (a heartbeat in flight) leases decide.
 */
export function assignedPartitions(workerId: string, liveWorkers: readonly string[], partitions: number): number[] {
  const index = liveWorkers.indexOf(workerId)
  if (index === -1) return []
  const out: number[] = []
  for (let p = index; p < partitions; p += liveWorkers.length) out.push(p)
  return out
}
