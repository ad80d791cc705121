import pg from 'pg'
import type { Logger } from '../../logger.ts'
import { parsePostgresUrl, redactUrl } from '../../state/postgres/url.ts'
import type { Coordinator, Heartbeat } from '../coordinator.ts'
import { createWorkerTables } from './schema.ts'

export interface PostgresCoordinatorOptions {
  /** The group: workers of one namespace share its partitions (the engine namespace of the checkpoints). */
  namespace: string
  workerId: string
  /** How long a worker stays alive, and keeps its leases, after its last heartbeat. */
  leaseMs: number
  /**
   * How long a coordination statement waits for a lease row's lock (held by a checkpoint that is
   * committing, or by a paused owner's open transaction) before failing, to be retried at the next
   * heartbeat. Default 1 s.
   */
  lockTimeoutMs?: number
  logger: Logger
}

/**
 * Membership and leases in the state store's Postgres schema. A lease lives as long as its owner's
 * row in `workers`, so one heartbeat statement keeps all of a worker's leases and never waits on a
 * lease row. Every expiry is the server's clock (now()), so workers whose clocks disagree still
 * agree on who is alive; a worker's own clock only measures how long ago it sent a heartbeat.
 */
export class PostgresCoordinator implements Coordinator {
  private readonly sql: { alive: string; beat: string; acquire: string; release: string; leaveLeases: string; leaveWorker: string }

  private constructor(
    /** Heartbeats only: never queued behind a lease statement waiting for a lock. */
    private readonly beats: pg.Pool,
    private readonly pool: pg.Pool,
    schema: string,
    private readonly o: PostgresCoordinatorOptions,
  ) {
    const workers = `${schema}.workers`
    const leases = `${schema}.partition_leases`
    this.sql = {
      alive: `SELECT ceil(extract(epoch FROM expires - now()) * 1000)::integer AS left FROM ${workers} WHERE namespace = $1 AND id = $2 AND expires > now()`,
      // One statement, one round trip: the membership row, the leases held, the live members. Reads
      // take no locks, so a heartbeat never waits on a checkpoint. The final SELECTs see the snapshot
      // from before this statement's own insert, so the caller adds itself.
      beat: `WITH beat AS (
          INSERT INTO ${workers} (namespace, id, heartbeat, expires) VALUES ($1, $2, now(), now() + $3 * interval '1 millisecond')
          ON CONFLICT (namespace, id) DO UPDATE SET heartbeat = excluded.heartbeat, expires = excluded.expires
        )
        SELECT NULL::text AS id, partition, epoch FROM ${leases} WHERE namespace = $1 AND owner = $2
        UNION ALL
        SELECT id, NULL, NULL FROM ${workers} WHERE namespace = $1 AND id <> $2 AND expires > now()`,
      acquire: `INSERT INTO ${leases} AS l (namespace, partition, owner, epoch) VALUES ($1, $3, $2, 1)
        ON CONFLICT (namespace, partition) DO UPDATE SET owner = excluded.owner, epoch = l.epoch + 1
        WHERE l.owner IS NULL OR l.owner = excluded.owner
          OR NOT EXISTS (SELECT 1 FROM ${workers} w WHERE w.namespace = l.namespace AND w.id = l.owner AND w.expires > now())
        RETURNING epoch`,
      release: `UPDATE ${leases} SET owner = NULL WHERE namespace = $1 AND partition = $2 AND owner = $3 AND epoch = $4`,
      leaveLeases: `UPDATE ${leases} SET owner = NULL WHERE namespace = $1 AND owner = $2`,
      leaveWorker: `DELETE FROM ${workers} WHERE namespace = $1 AND id = $2`,
    }
  }

  /** `url`: the state store's postgres:// URL (its schema parameter included). Opens 1 connection for heartbeats and up to 4 for leases. */
  static async open(url: string, options: PostgresCoordinatorOptions): Promise<PostgresCoordinator> {
    const { connectionString, schema } = parsePostgresUrl(url)
    const lockTimeout = options.lockTimeoutMs ?? 1_000
    const beats = new pg.Pool({ connectionString, max: 1, lock_timeout: lockTimeout })
    const pool = new pg.Pool({ connectionString, max: 4, lock_timeout: lockTimeout })
    for (const p of [beats, pool]) p.on('error', (err) => options.logger.warn({ err, url: redactUrl(url) }, 'idle Postgres connection lost'))
    try {
      await createWorkerTables(pool, schema)
    } catch (err) {
      await Promise.all([beats.end(), pool.end()])
      throw new Error(`cannot open the worker coordinator at ${redactUrl(url)}: ${(err as Error).message}`, { cause: err })
    }
    return new PostgresCoordinator(beats, pool, schema, options)
  }

  get workerId(): string {
    return this.o.workerId
  }

  async join(): Promise<void> {
    const { namespace, workerId, logger } = this.o
    for (;;) {
      const { rows } = await this.pool.query<{ left: number }>(this.sql.alive, [namespace, workerId])
      const left = rows[0]?.left
      if (left === undefined) break
      logger.warn({ worker: workerId, waitMs: left }, 'a live worker already uses this id; waiting for its heartbeat to expire')
      await new Promise((resolve) => setTimeout(resolve, Math.max(left, 1) + 50))
    }
    await this.heartbeat()
  }

  async heartbeat(): Promise<Heartbeat> {
    const { namespace, workerId, leaseMs } = this.o
    const { rows } = await this.beats.query<{ id: string | null; partition: number | null; epoch: number | null }>({
      name: 'tagstream_worker_beat',
      text: this.sql.beat,
      values: [namespace, workerId, leaseMs],
    })
    const workers = [workerId]
    const leases = []
    for (const r of rows) {
      if (r.id !== null) workers.push(r.id)
      else if (r.partition !== null && r.epoch !== null) leases.push({ partition: r.partition, epoch: r.epoch })
    }
    // JavaScript's order, not the server's collation: every worker must sort the same way.
    workers.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    leases.sort((a, b) => a.partition - b.partition)
    return { workers, leases }
  }

  async acquire(partition: number): Promise<number | null> {
    const { namespace, workerId } = this.o
    const { rows } = await this.pool.query<{ epoch: number }>({ name: 'tagstream_lease_acquire', text: this.sql.acquire, values: [namespace, workerId, partition] })
    return rows[0]?.epoch ?? null
  }

  async release(partition: number, epoch: number): Promise<void> {
    await this.pool.query(this.sql.release, [this.o.namespace, partition, this.o.workerId, epoch])
  }

  async leave(): Promise<void> {
    await this.pool.query(this.sql.leaveLeases, [this.o.namespace, this.o.workerId])
    await this.pool.query(this.sql.leaveWorker, [this.o.namespace, this.o.workerId])
  }

  async close(): Promise<void> {
    await Promise.all([this.beats.end(), this.pool.end()])
  }
}
