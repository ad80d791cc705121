/** How often a worker proves it is alive, and how soon a silent one's partitions move on. */
export interface CoordinationTiming {
  /** Heartbeat period (and, with leases, the rebalance period). Default 250 ms. */
  heartbeatMs: number
  /**
   * Kafka's group protocol (the default on Kafka): a worker not heard from for this long is dropped
   * from the group and its partitions go to the others. Default 1.5 s: the failover time after a
   * crash. The brokers must allow it (group.min.session.timeout.ms, docs/kafka.md).
   */
  sessionMs: number
  /** Postgres leases: a lease (and a worker's membership) lasts this long after its last renewal. Default 5 s. */
  leaseMs: number
  /**
   * Postgres leases: a worker stops appending a partition's outputs this long before its lease could
   * expire, by its own clock from the moment it sent the last renewal: the time an append already
   * under way has to land before another worker may take the partition over. Default 2 s.
   */
  appendMarginMs: number
}

export const DEFAULT_TIMING: CoordinationTiming = { heartbeatMs: 250, sessionMs: 1_500, leaseMs: 5_000, appendMarginMs: 2_000 }

/** Throws a message naming the flags when the periods cannot work together (`group`: Kafka's group protocol, else leases). */
export function checkTiming(t: CoordinationTiming, group = true): CoordinationTiming {
  if (!(t.heartbeatMs >= 10)) throw new Error(`--heartbeat-ms must be at least 10, got ${t.heartbeatMs}`)
  if (group) {
    // Two heartbeats may be lost (a slow round trip, a GC pause) before a healthy worker is dropped.
    if (!(t.sessionMs >= 3 * t.heartbeatMs)) throw new Error(`--session-ms (${t.sessionMs}) must be at least 3 × --heartbeat-ms (${t.heartbeatMs})`)
    return t
  }
  if (!(t.appendMarginMs >= 0)) throw new Error(`--append-margin-ms must be at least 0, got ${t.appendMarginMs}`)
  // Two heartbeats may be missed (a slow round trip, a GC pause) before a healthy worker stops appending.
  if (!(t.leaseMs >= t.appendMarginMs + 2 * t.heartbeatMs)) {
    throw new Error(`--lease-ms (${t.leaseMs}) must be at least --append-margin-ms (${t.appendMarginMs}) + 2 × --heartbeat-ms (${t.heartbeatMs})`)
  }
  return t
}
