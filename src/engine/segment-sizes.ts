/**
 * Members per tenant and segment. The engine keeps one per partition as it emits changes (sizes
 * cost nothing to read); a collector counts one from a partition's checkpointed users.
 */
export class SegmentSizes extends Map<string, Map<string, number>> {
  bump(tenant: string, segment: string, by: number): void {
    let m = this.get(tenant)
    if (m === undefined) this.set(tenant, (m = new Map()))
    m.set(segment, (m.get(segment) ?? 0) + by)
  }
}
