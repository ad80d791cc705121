import type pg from 'pg'
import type { AuditEntry, ErasureJob, PrivacyTables } from '../state-store.ts'

/** The tables of erasure jobs and the audit trail (docs/privacy.md), created with the others (./schema.ts). */
export function privacyTables(schema: string): string[] {
  return [
    // The job as JSON (read back as written, like checkpoints); the columns a listing filters and
    // orders by beside it. id in byte order, the order the embedded store sorts ids in.
    `CREATE TABLE IF NOT EXISTS ${schema}.erasures (
      id text COLLATE "C" PRIMARY KEY,
      tenant text NOT NULL,
      requested_at bigint NOT NULL,
      job json NOT NULL)`,
    `CREATE INDEX IF NOT EXISTS erasures_by_tenant ON ${schema}.erasures (tenant, requested_at DESC, id DESC)`,
    // Append-only; seq orders entries of the same millisecond.
    `CREATE TABLE IF NOT EXISTS ${schema}.audit (
      seq bigserial PRIMARY KEY,
      at bigint NOT NULL,
      tenant text NOT NULL,
      action text NOT NULL,
      subject text NOT NULL,
      by_key text NOT NULL,
      job text)`,
    `CREATE INDEX IF NOT EXISTS audit_by_tenant ON ${schema}.audit (tenant, at DESC, seq DESC)`,
  ]
}

interface AuditRow {
  at: string
  tenant: string
  action: AuditEntry['action']
  subject: string
  by_key: string
  job: string | null
}

const AUDIT_COLUMNS = 'at, tenant, action, subject, by_key, job'

/** Erasure jobs and the audit trail in Postgres: the state store's queries for them. */
export class PostgresPrivacyTables implements PrivacyTables {
  private readonly sql: Record<'add' | 'update' | 'get' | 'list' | 'listAll' | 'audit' | 'auditOf' | 'auditAll' | 'rename', string>

  constructor(
    private readonly pool: pg.Pool,
    schema: string,
  ) {
    const active = `AND ($2::boolean IS FALSE OR (job->>'status') <> 'done' OR (job->>'tombstone')::boolean)`
    this.sql = {
      add: `INSERT INTO ${schema}.erasures (id, tenant, requested_at, job) VALUES ($1, $2, $3, $4::json) ON CONFLICT (id) DO NOTHING`,
      update: `UPDATE ${schema}.erasures SET tenant = $2, requested_at = $3, job = $4::json WHERE id = $1`,
      get: `SELECT job FROM ${schema}.erasures WHERE id = $1`,
      list: `SELECT job FROM ${schema}.erasures WHERE tenant = $1 ${active} ORDER BY requested_at DESC, id DESC LIMIT $3`,
      listAll: `SELECT job FROM ${schema}.erasures WHERE $1::text IS NULL ${active} ORDER BY requested_at DESC, id DESC LIMIT $3`,
      audit: `INSERT INTO ${schema}.audit (at, tenant, action, subject, by_key, job) VALUES ($1, $2, $3, $4, $5, $6)`,
      auditOf: `SELECT ${AUDIT_COLUMNS} FROM ${schema}.audit WHERE tenant = $1 ORDER BY at DESC, seq DESC LIMIT $2`,
      auditAll: `SELECT ${AUDIT_COLUMNS} FROM ${schema}.audit ORDER BY at DESC, seq DESC LIMIT $1`,
      rename: `UPDATE ${schema}.audit SET subject = $3 WHERE tenant = $1 AND subject = $2`,
    }
  }

  async addErasure(job: ErasureJob): Promise<boolean> {
    const r = await this.pool.query(this.sql.add, [job.id, job.tenant, job.requestedAt, JSON.stringify(job)])
    return r.rowCount === 1
  }

  async updateErasure(job: ErasureJob): Promise<void> {
    await this.pool.query(this.sql.update, [job.id, job.tenant, job.requestedAt, JSON.stringify(job)])
  }

  async getErasure(id: string): Promise<ErasureJob | null> {
    const { rows } = await this.pool.query<{ job: ErasureJob }>(this.sql.get, [id])
    return rows[0]?.job ?? null
  }

  async listErasures(filter: { tenant: string | null; active: boolean; limit: number }): Promise<ErasureJob[]> {
    const { rows } = await this.pool.query<{ job: ErasureJob }>(filter.tenant === null ? this.sql.listAll : this.sql.list, [filter.tenant, filter.active, filter.limit])
    return rows.map((r) => r.job)
  }

  async addAudit(e: AuditEntry): Promise<void> {
    await this.pool.query(this.sql.audit, [e.at, e.tenant, e.action, e.subject, e.by, e.job])
  }

  async auditEntries(tenant: string | null, limit: number): Promise<AuditEntry[]> {
    const { rows } = tenant === null ? await this.pool.query<AuditRow>(this.sql.auditAll, [limit]) : await this.pool.query<AuditRow>(this.sql.auditOf, [tenant, limit])
    return rows.map((r) => ({ at: Number(r.at), tenant: r.tenant, action: r.action, subject: r.subject, by: r.by_key, job: r.job }))
  }

  async renameAuditSubject(tenant: string, from: string, to: string): Promise<void> {
    await this.pool.query(this.sql.rename, [tenant, from, to])
  }
}
