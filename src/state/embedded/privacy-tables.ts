import type { Database, RootDatabase } from 'lmdb'
import type { AuditEntry, ErasureJob, PrivacyTables } from '../state-store.ts'

type Key = (string | number)[]

const SEQ_KEY = 'last'

/**
 * Erasure jobs and the audit trail in LMDB (docs/privacy.md): not per namespace, like rule sets.
 * Jobs are keyed by id (a few per day: listing reads them all); audit entries by
 * [tenant, at, seq], so one tenant's trail is a reverse range scan.
 */
export class EmbeddedPrivacyTables implements PrivacyTables {
  constructor(
    private readonly root: RootDatabase,
    private readonly erasures: Database<ErasureJob, string>,
    private readonly audit: Database<AuditEntry, Key>,
    /** The last audit seq given out, under SEQ_KEY. */
    private readonly auditSeq: Database<number, string>,
  ) {}

  static open(root: RootDatabase): EmbeddedPrivacyTables {
    return new EmbeddedPrivacyTables(root, root.openDB<ErasureJob, string>('erasures', {}), root.openDB<AuditEntry, Key>('audit', {}), root.openDB<number, string>('audit_seq', {}))
  }

  async addErasure(job: ErasureJob): Promise<boolean> {
    // The check and the write in one write transaction: LMDB runs them one at a time, across threads too.
    return this.root.transaction(() => {
      if (this.erasures.get(job.id) !== undefined) return false
      void this.erasures.put(job.id, { ...job })
      return true
    })
  }

  async updateErasure(job: ErasureJob): Promise<void> {
    // Replaces only a stored job, as Postgres's UPDATE does: an unknown id writes nothing.
    await this.root.transaction(() => {
      if (this.erasures.get(job.id) !== undefined) void this.erasures.put(job.id, { ...job })
    })
  }

  async getErasure(id: string): Promise<ErasureJob | null> {
    return this.erasures.get(id) ?? null
  }

  async listErasures(filter: { tenant: string | null; active: boolean; limit: number }): Promise<ErasureJob[]> {
    const out: ErasureJob[] = []
    for (const { value } of this.erasures.getRange({})) {
      if (filter.tenant !== null && value.tenant !== filter.tenant) continue
      if (filter.active && value.status === 'done' && !value.tombstone) continue
      out.push(value)
    }
    out.sort((a, b) => b.requestedAt - a.requestedAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0))
    return out.slice(0, filter.limit)
  }

  async addAudit(entry: AuditEntry): Promise<void> {
    // seq orders entries of the same millisecond by insertion. It is stored and taken in the write
    // transaction, not kept in memory: the API and engine threads open the same environment, and a
    // reopened store carries on after the last one.
    await this.root.transaction(() => {
      const seq = (this.auditSeq.get(SEQ_KEY) ?? 0) + 1
      void this.auditSeq.put(SEQ_KEY, seq)
      void this.audit.put([entry.tenant, entry.at, seq], { ...entry })
    })
  }

  async auditEntries(tenant: string | null, limit: number): Promise<AuditEntry[]> {
    if (tenant !== null) {
      const out: AuditEntry[] = []
      for (const { value } of this.audit.getRange({ start: [tenant, Number.MAX_SAFE_INTEGER], end: [tenant], reverse: true, limit })) out.push(value)
      return out
    }
    const all = [...this.audit.getRange({})].map(({ key, value }) => ({ value, order: [key[1] as number, key[2] as number] as const }))
    all.sort((a, b) => b.order[0] - a.order[0] || b.order[1] - a.order[1])
    return all.slice(0, limit).map((e) => e.value)
  }

  async renameAuditSubject(tenant: string, from: string, to: string): Promise<void> {
    await this.root.transaction(() => {
      for (const { key, value } of this.audit.getRange({ start: [tenant], end: [tenant, Number.MAX_SAFE_INTEGER] })) {
        if (value.subject === from) void this.audit.put(key, { ...value, subject: to })
      }
    })
  }
}
