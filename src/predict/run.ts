import type { EventsFormat } from '../events/events-format.ts'
import { DuckDBInstance } from '@duckdb/node-api'
import { mkdirSync } from 'node:fs'
import { hostname } from 'node:os'
import { join } from 'node:path'
import type { EventLog } from '../log/event-log.ts'
import { CallGate, gatedConnection, type RunConnection } from './call-gate.ts'
import { featureTables, trainedMixes } from './feature-tables.ts'
import { DAY_MS, MODEL_NAMES, PREDICT_DEFAULTS, type PredictOptions } from './predict-options.ts'
import { newRunId, RunStore, type RunKind, type RunRecord } from './run-store.ts'
import { scoreTenant } from './score.ts'
import { trainTenant, type TenantTraining } from './train.ts'

export interface RunRequest {
  readonly dataDir: string
  /** The Parquet warehouse (default `<dataDir>/warehouse`). */
  readonly warehouseRoot?: string
  readonly kind: RunKind
  /** Features read the days before this instant's UTC day. Default now. */
  readonly asOfMs?: number
  readonly options?: Partial<PredictOptions>
  /** Where `score` and `run` append the prediction events. */
  /** Where scores go; `format`, how their events are stored (the log's default: src/log/default-events-format.ts). */
  readonly log?: { log: EventLog; partitions: number; format?: EventsFormat }
  /** Stage, and how far it is (done of total; total 0 when unknown). */
  readonly onProgress?: (stage: string, done: number, total: number) => void
  /**
   * Stops the run: a DuckDB query going is interrupted, and no further stage or tenant starts. The
   * run is recorded as failed, its error the signal's reason. (A thread running DuckDB must end
   * this way, not be terminated: a worker terminated inside a query aborts the whole process.)
   */
  readonly signal?: AbortSignal
  /** Every DuckDB call and append passes through it: a run in a thread, which its server may terminate between calls (./call-gate.ts). */
  readonly gate?: CallGate
}

/** DuckDB's memory for a run: the daily table of a million users fits with room for the joins. */
const MEMORY_LIMIT = '4GB'

/** Thrown when another run holds the lock: nothing was started. */
export class RunBusyError extends Error {
  constructor(readonly heldBy: string) {
    super(`a prediction run is already going: ${heldBy}`)
  }
}

/**
 * One prediction run (docs/predictions.md): `train` trains and evaluates every tenant's models,
 * `score` scores with the newest succeeded training run's, `run` does both (the daily job). Holds
 * the run lock throughout; records the run, failed or not. A failed run appends nothing it did not
 * finish scoring and leaves the last published scores as they are.
 */
export async function predictRun(req: RunRequest): Promise<RunRecord> {
  const store = new RunStore(req.dataDir)
  const startedAt = Date.now()
  const asOfMs = req.asOfMs ?? startedAt
  const id = newRunId(startedAt)
  const held = store.lock(id)
  if ('heldBy' in held) throw new RunBusyError(held.heldBy)
  const models = req.kind === 'score' ? store.latestTrained() : null
  // Scoring reads the features the models were trained on: the training run's options.
  const o: PredictOptions = { ...PREDICT_DEFAULTS, ...models?.options, ...req.options }
  const record: RunRecord = {
    id,
    kind: req.kind,
    status: 'running',
    startedAt: new Date(startedAt).toISOString(),
    finishedAt: null,
    asOf: new Date(asOfMs).toISOString(),
    modelsFrom: models?.id ?? null,
    error: null,
    pid: process.pid,
    host: hostname(),
    options: o,
    tenants: {},
    timings: {},
  }
  try {
    store.save(record)
    if (req.kind === 'score' && models === null) throw new Error('no training run has succeeded yet: run `tagstream predict train` (or `run`) first')
    if (req.kind !== 'train' && req.log === undefined) throw new Error('scoring needs the event log')
    const gate = req.gate ?? new CallGate()
    await withDuck(req.dataDir, req.signal, gate, async (conn) => {
      const root = req.warehouseRoot ?? join(req.dataDir, 'warehouse')
      const t0 = Date.now()
      req.onProgress?.('features', 0, 0)
      const mixes = await featureTables(conn, root, asOfMs, o, models === null ? null : trainedMixes(models))
      record.timings.features = Date.now() - t0
      const asOfDay = Math.floor(asOfMs / DAY_MS)
      const tenants = await conn.runAndReadAll('SELECT tenant, min(d) FROM daily GROUP BY tenant ORDER BY tenant')
      const rows = tenants.getRows().map(([t, d]) => [String(t), Number(d)] as const)
      let done = 0
      for (const [tenant, firstDay] of rows) {
        req.signal?.throwIfAborted()
        req.onProgress?.('train', done++, rows.length)
        const t0 = Date.now()
        let training: TenantTraining | null = null
        let error: string | null = null
        if (req.kind === 'score') training = models!.tenants[tenant]?.training ?? null
        else {
          // A tenant's own data can break a fit (values that overflow): its failure is its own.
          try {
            training = await trainTenant(conn, tenant, mixes.get(tenant) ?? [], firstDay, asOfDay, o)
          } catch (err) {
            // A stop is the run's, not this tenant's failure.
            req.signal?.throwIfAborted()
            error = `training failed: ${err instanceof Error ? err.message : String(err)}`
          }
        }
        record.timings.train = (record.timings.train ?? 0) + (Date.now() - t0)
        record.tenants[tenant] = { training: req.kind === 'score' ? null : training, scored: null, published: published(training), error }
      }
      if (req.kind === 'train') return
      done = 0
      for (const [tenant] of rows) {
        req.signal?.throwIfAborted()
        req.onProgress?.('score', done++, rows.length)
        const t0 = Date.now()
        const training = req.kind === 'score' ? (models!.tenants[tenant]?.training ?? null) : record.tenants[tenant]!.training
        const part = record.tenants[tenant]!
        part.scored = training === null ? 0 : await scoreTenant(conn, tenant, training, asOfDay, o, { ...req.log!, scoredAt: startedAt, modelVersion: models?.id ?? id, gate })
        record.timings.score = (record.timings.score ?? 0) + (Date.now() - t0)
        store.save(record)
      }
    })
    record.status = 'succeeded'
  } catch (err) {
    record.status = 'failed'
    // An interrupted query says only "Interrupted": the stop's reason says why.
    const why = req.signal?.aborted === true ? (req.signal.reason as unknown) : err
    record.error = why instanceof Error ? why.message : String(why)
  } finally {
    record.finishedAt = new Date().toISOString()
    record.timings.total = Date.now() - startedAt
    try {
      store.save(record)
    } finally {
      held.release()
    }
  }
  return record
}

function published(t: TenantTraining | null): RunRecord['tenants'][string]['published'] {
  return t === null ? [] : MODEL_NAMES.filter((m) => t.models[m].status === 'published')
}

async function withDuck<T>(dataDir: string, signal: AbortSignal | undefined, gate: CallGate, f: (conn: RunConnection) => Promise<T>): Promise<T> {
  signal?.throwIfAborted()
  const temp = join(dataDir, 'predict', '.duckdb-tmp')
  mkdirSync(temp, { recursive: true })
  const db = await gate.pass(() => DuckDBInstance.create(':memory:', { memory_limit: MEMORY_LIMIT, temp_directory: temp }))
  let conn
  try {
    conn = await gate.pass(() => db.connect())
  } catch (err) {
    db.closeSync()
    throw err
  }
  // An interrupt ends the query going, not one started after it: repeated until the run gives up.
  let repeat: NodeJS.Timeout | undefined
  const interrupt = () => {
    conn.interrupt()
    repeat = setInterval(() => conn.interrupt(), 50)
  }
  signal?.addEventListener('abort', interrupt, { once: true })
  try {
    signal?.throwIfAborted()
    return await f(gatedConnection(conn, gate))
  } finally {
    signal?.removeEventListener('abort', interrupt)
    clearInterval(repeat)
    conn.closeSync()
    db.closeSync()
  }
}
