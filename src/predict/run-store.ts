import { closeSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs'
import { hostname } from 'node:os'
import { join } from 'node:path'
import type { ModelName, PredictOptions } from './predict-options.ts'
import type { TenantTraining } from './train.ts'

/*
 * Prediction runs on disk (docs/predictions.md, "Run records"), next to the warehouse they read:
 * `<data>/predict/runs/<id>.json`, one JSON record per run, written whole to a temporary file and
 * renamed (a reader never sees half a record), and `<data>/predict/run.lock` while a run is going.
 */

export type RunKind = 'train' | 'score' | 'run'

/** A tenant's part of a run. */
export interface TenantRun {
  training: TenantTraining | null
  /** Prediction events appended (null: this run did not score). */
  scored: number | null
  published: ModelName[]
  /**
   * Why this tenant's training failed (its own data: values that overflow a fit, say), or null.
   * The other tenants' models and scores go on; this tenant's users keep their last scores.
   */
  error: string | null
}

export interface RunRecord {
  id: string
  kind: RunKind
  /** running → succeeded | failed; a `running` record whose process is gone reads as `abandoned`. */
  status: 'running' | 'succeeded' | 'failed' | 'abandoned'
  startedAt: string
  finishedAt: string | null
  /** Features read the days before this instant's day (UTC). */
  asOf: string
  /** For `score`: the training run whose models scored. */
  modelsFrom: string | null
  error: string | null
  pid: number
  host: string
  options: PredictOptions
  tenants: Record<string, TenantRun>
  /** Milliseconds per stage: features (the daily table), train, score (features and appends). */
  timings: Record<string, number>
}

/** A run id: its start time (sortable) and a random tail against two runs started in one second. */
export function newRunId(now = Date.now()): string {
  const t = new Date(now)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z')
  return `${t}-${Math.floor(Math.random() * 0x10000)
    .toString(16)
    .padStart(4, '0')}`
}

const RUN_ID = /^\d{8}T\d{6}Z-[0-9a-f]{4}$/

export function isRunId(s: string): boolean {
  return RUN_ID.test(s)
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** Finished records a store keeps parsed: a record holds every tenant's models, and is never rewritten once finished. */
const CACHED_RECORDS = 32

export class RunStore {
  readonly dir: string
  private readonly runs: string
  /**
   * Finished records by id, newest use last. The API reads the newest runs on every list: without
   * it each request, from any tenant's key, read and parsed every listed file (a run of many
   * tenants is megabytes).
   */
  private readonly finished = new Map<string, RunRecord>()

  constructor(dataDir: string) {
    this.dir = join(dataDir, 'predict')
    this.runs = join(this.dir, 'runs')
  }

  save(r: RunRecord): void {
    this.finished.delete(r.id)
    mkdirSync(this.runs, { recursive: true })
    const path = join(this.runs, `${r.id}.json`)
    writeFileSync(`${path}.tmp`, JSON.stringify(r, null, 1))
    renameSync(`${path}.tmp`, path)
  }

  get(id: string): RunRecord | null {
    if (!isRunId(id)) return null
    const cached = this.finished.get(id)
    if (cached !== undefined) {
      this.finished.delete(id)
      this.finished.set(id, cached)
      return cached
    }
    let r: RunRecord
    try {
      r = this.view(JSON.parse(readFileSync(join(this.runs, `${id}.json`), 'utf8')) as RunRecord)
    } catch {
      return null
    }
    // `abandoned` is not final (the record says running): only what the run itself ended is kept.
    if (r.status === 'succeeded' || r.status === 'failed') {
      this.finished.set(id, r)
      if (this.finished.size > CACHED_RECORDS) this.finished.delete(this.finished.keys().next().value!)
    }
    return r
  }

  /** Run ids, newest first. */
  ids(): string[] {
    let names: string[]
    try {
      names = readdirSync(this.runs)
    } catch {
      return []
    }
    return names
      .filter((n) => n.endsWith('.json'))
      .map((n) => n.slice(0, -5))
      .filter(isRunId)
      .sort()
      .reverse()
  }

  /** The newest runs, newest first. */
  list(limit = 20): RunRecord[] {
    return this.ids()
      .slice(0, limit)
      .flatMap((id) => this.get(id) ?? [])
  }

  /** The newest succeeded run that trained (kind train or run): the models a `score` uses. */
  latestTrained(): RunRecord | null {
    for (const id of this.ids()) {
      const r = this.get(id)
      if (r !== null && r.status === 'succeeded' && r.kind !== 'score') return r
    }
    return null
  }

  /** A record as readers see it: `running` with its process gone on this host is `abandoned`. */
  private view(r: RunRecord): RunRecord {
    if (r.status === 'running' && r.host === hostname() && !alive(r.pid)) return { ...r, status: 'abandoned' }
    return r
  }

  /**
   * After this process's run thread ended without recording its end (stopped, or crashed): the run
   * it held is recorded as failed and the lock released, so the next run need not wait for the
   * process to exit. Does nothing when the lock is not this process's.
   */
  recover(reason: string): void {
    const path = join(this.dir, 'run.lock')
    let held: { run?: string; pid?: number; host?: string } = {}
    try {
      held = JSON.parse(readFileSync(path, 'utf8')) as typeof held
    } catch {
      return
    }
    if (held.pid !== process.pid || held.host !== hostname()) return
    const r = held.run === undefined ? null : this.get(held.run)
    if (r !== null && r.status === 'running') this.save({ ...r, status: 'failed', error: reason, finishedAt: new Date().toISOString() })
    rmSync(path, { force: true })
  }

  /**
   * Takes the run lock, or says who holds it: two runs never overlap (a daily schedule and a
   * `tagstream predict` by hand, or two servers on one data directory). A lock left by a process
   * that is gone is taken over.
   */
  lock(runId: string): { release: () => void } | { heldBy: string } {
    mkdirSync(this.dir, { recursive: true })
    const path = join(this.dir, 'run.lock')
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = openSync(path, 'wx')
        writeSync(fd, JSON.stringify({ run: runId, pid: process.pid, host: hostname(), since: new Date().toISOString() }))
        closeSync(fd)
        return { release: () => rmSync(path, { force: true }) }
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
        let held: { run?: string; pid?: number; host?: string; since?: string } = {}
        try {
          held = JSON.parse(readFileSync(path, 'utf8')) as typeof held
        } catch {
          // A lock being written this instant reads as empty: treated as held.
        }
        const stale = typeof held.pid === 'number' && held.host === hostname() && !alive(held.pid)
        if (!stale) return { heldBy: `run ${held.run ?? '?'} (pid ${held.pid ?? '?'} on ${held.host ?? '?'}, since ${held.since ?? '?'})` }
        rmSync(path, { force: true })
      }
    }
    return { heldBy: 'another run (the lock could not be taken)' }
  }
}
