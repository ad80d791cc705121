import type { RequestFailure } from '../../ingest/failure.ts'

/*
 * Caps on open long-lived streams (SSE): each holds a socket, timers and, for the log streams, a
 * parked read per partition, so thousands of them slow every other request. The per-tenant cap
 * keeps one tenant from taking the whole server's share; the global cap protects the process.
 *
 *   429 too_many_streams  the tenant has `perTenant` streams of this kind open
 *   503 too_many_streams  the server has `total` streams of this kind open
 */
export class StreamSlots {
  private readonly byTenant = new Map<string, number>()
  private open = 0

  constructor(
    /** What the messages call these streams, e.g. "SSE". */
    readonly kind: string,
    readonly perTenant: number,
    readonly total: number,
    /** Told every time the count changes (a gauge) and every refusal (a counter). */
    private readonly observe: { size(open: number): void; refused(limit: 'tenant' | 'total'): void } = { size: () => {}, refused: () => {} },
  ) {}

  get size(): number {
    return this.open
  }

  /** Takes a slot for `tenant`: the release function (idempotent), or the refusal to send. */
  acquire(tenant: string, retryAfterSeconds: number): (() => void) | RequestFailure {
    const mine = this.byTenant.get(tenant) ?? 0
    // The tenant cap is checked first: a tenant at its own cap is told so even when the server is full.
    if (mine >= this.perTenant) {
      this.observe.refused('tenant')
      return {
        status: 429,
        code: 'too_many_streams',
        message: `tenant "${tenant.slice(0, 100)}" has ${mine} ${this.kind} streams open (per-tenant cap ${this.perTenant}); close one and retry`,
        retryAfter: retryAfterSeconds,
      }
    }
    if (this.open >= this.total) {
      this.observe.refused('total')
      return {
        status: 503,
        code: 'too_many_streams',
        message: `the server has ${this.open} ${this.kind} streams open (server-wide cap ${this.total}); retry later`,
        retryAfter: retryAfterSeconds,
      }
    }
    this.byTenant.set(tenant, mine + 1)
    this.open++
    this.observe.size(this.open)
    let released = false
    return () => {
      if (released) return
      released = true
      const left = (this.byTenant.get(tenant) ?? 1) - 1
      if (left === 0) this.byTenant.delete(tenant)
      else this.byTenant.set(tenant, left)
      this.open--
      this.observe.size(this.open)
    }
  }
}
