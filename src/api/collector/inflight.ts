import { tenantInflightLimit, type BackpressureConfig } from '../config.ts'
import { failure, type RequestFailure } from '../../ingest/failure.ts'

/*
 * The collector's in-flight byte budget: bytes of request bodies held in memory until their append
 * is durable, counted for the whole server and per tenant. The tenant share exists because one
 * tenant holding the whole budget (slow bodies, or many stalled chunked requests) would make every
 * other tenant's ingest answer 429. Chunked bodies grow their reservation chunk by chunk as they
 * arrive, so memory held by a body is always counted, never only after it is complete.
 *
 * One request is always admitted when nothing else is in flight (globally, or for its tenant), so
 * a body larger than a budget (but within maxBodyBytes) is slow rather than refused forever.
 */
export class InflightBudget {
  private readonly byTenant = new Map<string, number>()

  constructor(
    private readonly limits: () => BackpressureConfig,
    /** All tenants' bytes in flight, shared with whoever reads it (ApiContext.inflight). */
    private readonly total: { bytes: number } = { bytes: 0 },
  ) {}

  get bytes(): number {
    return this.total.bytes
  }

  tenantBytes(tenant: string): number {
    return this.byTenant.get(tenant) ?? 0
  }

  /**
   * The refusal for a request of `tenant` that holds `held` bytes and would hold `total`, or null.
   * `held` is excluded from "others in flight": a request never competes with itself.
   */
  check(tenant: string, held: number, total: number): RequestFailure | null {
    const limits = this.limits()
    const others = this.bytes - held
    if (others > 0 && others + total > limits.maxInflightBytes) {
      return {
        ...failure(429, 'overloaded', `the collector has ${this.bytes} bytes of requests in flight (limit ${limits.maxInflightBytes}); retry after ${limits.retryAfterSeconds} s`),
        retryAfter: limits.retryAfterSeconds,
        limit: 'inflight_bytes',
      }
    }
    const share = tenantInflightLimit(limits)
    const mine = this.tenantBytes(tenant) - held
    if (mine > 0 && mine + total > share) {
      return {
        ...failure(
          429,
          'overloaded',
          `tenant "${tenant.slice(0, 100)}" has ${mine + held} bytes of requests in flight (its share ${share} of ${limits.maxInflightBytes}); retry after ${limits.retryAfterSeconds} s`,
        ),
        retryAfter: limits.retryAfterSeconds,
        limit: 'tenant_inflight_bytes',
      }
    }
    return null
  }

  add(tenant: string, n: number): void {
    if (n === 0) return
    this.total.bytes += n
    const left = this.tenantBytes(tenant) + n
    // Emptied tenants are dropped: the map holds only tenants with bytes in flight.
    if (left === 0) this.byTenant.delete(tenant)
    else this.byTenant.set(tenant, left)
  }
}

/** One request's reservation in the budget: grows as its body arrives, released once. */
export class Reservation {
  held = 0

  constructor(
    private readonly budget: InflightBudget,
    private readonly tenant: string,
  ) {}

  /** Grows the reservation to `total` bytes; the refusal (nothing reserved) when the budget has no room. */
  growTo(total: number): RequestFailure | null {
    if (total <= this.held) return null
    const refusal = this.budget.check(this.tenant, this.held, total)
    if (refusal !== null) return refusal
    this.budget.add(this.tenant, total - this.held)
    this.held = total
    return null
  }

  /** Grows the reservation to `total` without a check: for memory already taken (a gunzipped body). */
  force(total: number): void {
    if (total <= this.held) return
    this.budget.add(this.tenant, total - this.held)
    this.held = total
  }

  release(): void {
    this.budget.add(this.tenant, -this.held)
    this.held = 0
  }
}
