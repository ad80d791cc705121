import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { join, resolve } from 'node:path'

/*
 * Shared use of the local test broker (start.sh) by several processes in one checkout: test runs,
 * benchmarks. Each user holds a lease (a file named by its pid) while it runs; a broker that a user
 * had to start is stopped by the last user to release it. A broker started by hand or by CI (no
 * `started-by-lease` marker) is never stopped here. Leases of processes that died are ignored.
 */

const here = import.meta.dirname
const dir = process.env.TAGSTREAM_KAFKA_DIR ?? resolve(here, '../../.kafka')
const leases = join(dir, 'test-leases')
const lockFile = join(dir, 'test-leases.lock')
const startedByLease = join(dir, 'started-by-lease')
const port = Number(process.env.KAFKA_PORT ?? 9092)

export interface BrokerLease {
  /** Empty when the broker answers; otherwise why it could not be started (start.sh's output). */
  error: string
  release(): Promise<void>
}

function answers(host: string, port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect({ host, port })
    socket.setTimeout(1_000)
    socket.once('connect', () => {
      socket.destroy()
      done(true)
    })
    socket.once('timeout', () => {
      socket.destroy()
      done(false)
    })
    socket.once('error', () => done(false))
  })
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/** A lock file created exclusively; one whose holder died (or that stayed empty for 5 s) is taken over. */
async function withLock<T>(fn: () => Promise<T>): Promise<T> {
  mkdirSync(dir, { recursive: true })
  for (;;) {
    try {
      writeFileSync(lockFile, String(process.pid), { flag: 'wx' })
      break
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      const holder = Number(readFileSync(lockFile, { encoding: 'utf8', flag: 'a+' }))
      const age = Date.now() - (statSync(lockFile, { throwIfNoEntry: false })?.mtimeMs ?? 0)
      if (holder > 0 ? !alive(holder) : age > 5_000) rmSync(lockFile, { force: true })
      else await new Promise((r) => setTimeout(r, 100))
    }
  }
  try {
    return await fn()
  } finally {
    rmSync(lockFile, { force: true })
  }
}

// One lease file per process: nested leases (bench/run.ts around a section that leases too) share it.
let held: { count: number; error: Promise<string> } | null = null

/** Makes sure a broker answers on 127.0.0.1:9092 (KAFKA_PORT), starting one if needed, and holds it until release(). */
export async function leaseBroker(): Promise<BrokerLease> {
  if (held) held.count++
  else held = { count: 1, error: acquire() }
  return once(await held.error, releaseOne)
}

function once(error: string, release: () => Promise<void>): BrokerLease {
  let released = false
  return {
    error,
    release: () => {
      if (released) return Promise.resolve()
      released = true
      return release()
    },
  }
}

async function releaseOne(): Promise<void> {
  if (!held || --held.count > 0) return
  held = null
  await releaseFile()
}

async function acquire(): Promise<string> {
  const lease = join(leases, String(process.pid))
  const error = await withLock(async () => {
    mkdirSync(leases, { recursive: true })
    writeFileSync(lease, '')
    if (await answers('127.0.0.1', port)) return ''
    const started = spawnSync(join(here, 'start.sh'), { encoding: 'utf8', timeout: 600_000 })
    if (started.status !== 0) {
      const output = `${started.stdout ?? ''}${started.stderr ?? ''}${started.error ? String(started.error) : ''}`.trim()
      return `scripts/kafka/start.sh failed (exit ${started.status}):\n${output}`
    }
    process.stderr.write(started.stdout)
    writeFileSync(startedByLease, String(process.pid))
    return ''
  })
  return error
}

function releaseFile(): Promise<void> {
  return withLock(async () => {
    rmSync(join(leases, String(process.pid)), { force: true })
    const others = readdirSync(leases).filter((f) => alive(Number(f)))
    if (others.length > 0 || !existsSync(startedByLease)) return
    spawnSync(join(here, 'stop.sh'), { stdio: 'inherit', timeout: 60_000 })
    rmSync(startedByLease, { force: true })
  })
}
