import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { join, resolve } from 'node:path'
import type { TestProject } from 'vitest/node'

/*
 * `npm test` on a machine where nobody started Kafka: start the broker of scripts/kafka/start.sh
 * (fetching it from Maven Central the first time) and stop it again at the end. A broker that was
 * already running (CI's, a developer's) is left alone. Several test runs share one checkout here, so
 * each run holds a lease (a file named by its pid) while it runs, and the broker a test run started
 * is stopped by the last run to finish. A broker that cannot start does not abort the whole run: the
 * Kafka tests fail with start.sh's output (provided as kafkaStartError) and every other test runs.
 */

declare module 'vitest' {
  export interface ProvidedContext {
    kafkaStartError: string
  }
}

const root = resolve(import.meta.dirname, '../..')
const scripts = join(root, 'scripts/kafka')
const dir = process.env.TAGSTREAM_KAFKA_DIR ?? join(root, '.kafka')
const leases = join(dir, 'test-leases')
const lockFile = join(dir, 'test-leases.lock')
// Present while the running broker is one a test run started (so a test run may stop it).
const startedByTests = join(dir, 'started-by-tests')

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

/** A lock file created exclusively; one whose holder died (or that is empty and old) is taken over. */
async function withLock<T>(fn: () => Promise<T>): Promise<T> {
  mkdirSync(dir, { recursive: true })
  for (;;) {
    try {
      writeFileSync(lockFile, String(process.pid), { flag: 'wx' })
      break
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      const holder = Number(readFileSync(lockFile, { encoding: 'utf8', flag: 'a+' }))
      const stale = holder > 0 ? !alive(holder) : Date.now() - statSync(lockFile, { throwIfNoEntry: false })!.mtimeMs > 5_000
      if (stale) rmSync(lockFile, { force: true })
      else await new Promise((r) => setTimeout(r, 100))
    }
  }
  try {
    return await fn()
  } finally {
    rmSync(lockFile, { force: true })
  }
}

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  project.provide('kafkaStartError', '')
  // Tests pointed at another broker (TAGSTREAM_TEST_KAFKA) bring their own.
  if (process.env.TAGSTREAM_TEST_KAFKA) return undefined
  const lease = join(leases, String(process.pid))
  const error = await withLock(async () => {
    mkdirSync(leases, { recursive: true })
    writeFileSync(lease, '')
    if (await answers('127.0.0.1', 9092)) return ''
    const started = spawnSync(join(scripts, 'start.sh'), { encoding: 'utf8', timeout: 600_000 })
    if (started.status !== 0) {
      const output = `${started.stdout ?? ''}${started.stderr ?? ''}${started.error ? String(started.error) : ''}`.trim()
      return `scripts/kafka/start.sh failed (exit ${started.status}):\n${output}`
    }
    process.stderr.write(started.stdout)
    writeFileSync(startedByTests, String(process.pid))
    return ''
  })
  project.provide('kafkaStartError', error)
  return () =>
    withLock(async () => {
      rmSync(lease, { force: true })
      const others = readdirSync(leases).filter((f) => alive(Number(f)))
      if (others.length > 0 || !existsSync(startedByTests)) return
      spawnSync(join(scripts, 'stop.sh'), { stdio: 'inherit', timeout: 60_000 })
      rmSync(startedByTests, { force: true })
    })
}
