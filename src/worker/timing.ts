/** How often a worker proves it is alive, and how long its leases last without that proof. */
export interface CoordinationTiming {
  /** Heartbeat and rebalance period. Default 1 s. */
  heartbeatMs: number
  /** A lease (and a worker's membership) lasts this long after its last renewal. Default 5 s. */
  leaseMs: number
  /**
   * A worker stops appending a partition's outputs this long before its lease could expire, by its
   * own clock from the moment it sent the last renewal: the time an append already under way has
   * to land before another worker may take the partition over. Default 2 s.
   */
  appendMarginMs: number
}

export const DEFAULT_TIMING: CoordinationTiming = { heartbeatMs: 1_000, leaseMs: 5_000, appendMarginMs: 2_000 }

/** Throws a message naming the flags when the periods cannot work together. */
export function checkTiming(t: CoordinationTiming): CoordinationTiming {
  if (!(t.heartbeatMs >= 10)) throw new Error(`--heartbeat-ms must be at least 10, got ${t.heartbeatMs}`)
  if (!(t.appendMarginMs >= 0)) throw new Error(`--append-margin-ms must be at least 0, got ${t.appendMarginMs}`)
  // Two heartbeats may be missed (a slow round trip, a GC pause) before a healthy worker stops appending.
  if (!(t.leaseMs >= t.appendMarginMs + 2 * t.heartbeatMs)) {
    throw new Error(`--lease-ms (${t.leaseMs}) must be at least --append-margin-ms (${t.appendMarginMs}) + 2 × --heartbeat-ms (${t.heartbeatMs})`)
  }
  return t
}
