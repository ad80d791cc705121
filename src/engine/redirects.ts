/**
 * Absorbed ids by tenant, each with the person it now belongs to (identity merges,
 * docs/identity.md). Kept beside a partition's users: a redirect is a user row of its own in the
 * checkpoint (UserState.redirectTo), and this table is what the hot path and reads look up.
 */
export class Redirects {
  private readonly byTenant = new Map<string, Map<string, string>>()
  /** How many ids were absorbed here: zero lets the hot path skip the lookup. */
  size = 0

  /** The person an id was absorbed into, or undefined when it was not. */
  of(tenant: string, id: string): string | undefined {
    return this.byTenant.get(tenant)?.get(id)
  }

  /** Forgets an absorbed id (an erase); true when it was one. */
  delete(tenant: string, id: string): boolean {
    const gone = this.byTenant.get(tenant)?.delete(id) === true
    if (gone) this.size--
    return gone
  }

  set(tenant: string, id: string, person: string): void {
    let m = this.byTenant.get(tenant)
    if (m === undefined) this.byTenant.set(tenant, (m = new Map()))
    if (!m.has(id)) this.size++
    m.set(id, person)
  }
}
