import { execFile } from 'node:child_process'
import { appendFileSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import pg from 'pg'

const run = promisify(execFile)

/** Debian's server binaries (postgresql-NN): the newest installed version. */
function binDir(): string {
  const root = '/usr/lib/postgresql'
  const versions = existsSync(root) ? readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'pg_ctl'))) : []
  const newest = versions.sort((a, b) => Number(b) - Number(a))[0]
  if (newest === undefined) throw new Error(`no Postgres server binaries under ${root}/*/bin (Debian's postgresql package)`)
  return join(root, newest, 'bin')
}

export interface PgInstanceOptions {
  port: number
  /** The address it listens on; 127.0.0.1 unless a test wants it on another interface (a veth). */
  host?: string
}

/**
 * A Postgres server of a test's own, so a test can crash and restart it without touching the shared
 * one at 127.0.0.1:5432 that other tests use: a fresh cluster in a temp directory, trust auth for
 * every address (it listens only where the test says), database `test`. Postgres refuses to run as
 * root, so its directory belongs to the `postgres` OS user and its tools run through runuser.
 */
export class PgInstance {
  private readonly bin = binDir()
  readonly host: string
  readonly port: number
  private running = false

  private constructor(
    readonly dir: string,
    options: PgInstanceOptions,
  ) {
    this.host = options.host ?? '127.0.0.1'
    this.port = options.port
  }

  /** The cluster's data directory. */
  get data(): string {
    return join(this.dir, 'data')
  }

  /** The server's URL for database `test`, as tagstream and pg read it. */
  get url(): string {
    return `postgres://postgres@${this.host}:${this.port}/test`
  }

  /** Creates the cluster and starts it, with database `test`; removes what it made if that fails. */
  static async create(options: PgInstanceOptions): Promise<PgInstance> {
    const dir = mkdtempSync(join(tmpdir(), 'tagstream-pg-'))
    const pgi = new PgInstance(dir, options)
    try {
      // mkdtemp makes the directory 0700 for root; the server runs as postgres.
      const { uid, gid } = await pgi.postgresUser()
      chownSync(dir, uid, gid)
      // --no-sync: initdb's fsyncs cost seconds here and protect only against a machine crash.
      await pgi.asPostgres('initdb', ['-D', pgi.data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync'])
      // Trust from any address: the server listens only on the test's own address, and a worker in
      // a network namespace connects from the veth's other end, not from localhost.
      appendFileSync(join(pgi.data, 'pg_hba.conf'), 'host all all 0.0.0.0/0 trust\n')
      appendFileSync(
        join(pgi.data, 'postgresql.conf'),
        [
          `listen_addresses = '${pgi.host}'`,
          `port = ${pgi.port}`,
          // Its socket beside its data: /var/run/postgresql belongs to the shared server.
          `unix_socket_directories = '${pgi.dir}'`,
          // A crash here is the server's processes killed (pg_ctl -m immediate), not the machine: what
          // they wrote is in the kernel either way, and WAL recovery at restart runs all the same.
          'fsync = off',
          'shared_buffers = 32MB',
          'max_connections = 100',
          '',
        ].join('\n'),
      )
      await pgi.start()
      const admin = new pg.Client({ connectionString: `postgres://postgres@${pgi.host}:${pgi.port}/postgres` })
      await admin.connect()
      try {
        await admin.query('CREATE DATABASE test')
      } finally {
        await admin.end()
      }
      return pgi
    } catch (err) {
      await pgi.remove()
      throw err
    }
  }

  /** Starts the server on its data (again, after a crash: WAL recovery first); resolves once it accepts connections. */
  async start(): Promise<void> {
    await this.asPostgres('pg_ctl', ['start', '-w', '-t', '60', '-D', this.data, '-l', join(this.dir, 'server.log')])
    this.running = true
  }

  /** A crash: every server process stopped at once, nothing flushed or checkpointed, every connection cut. */
  async crash(): Promise<void> {
    await this.asPostgres('pg_ctl', ['stop', '-w', '-m', 'immediate', '-D', this.data])
    this.running = false
  }

  /** A clean shutdown. */
  async stop(): Promise<void> {
    await this.asPostgres('pg_ctl', ['stop', '-w', '-m', 'fast', '-D', this.data])
    this.running = false
  }

  /** Stops the server if it runs (immediately: its data goes next) and deletes its directory. */
  async remove(): Promise<void> {
    if (this.running || existsSync(join(this.data, 'postmaster.pid'))) await this.crash().catch(() => undefined)
    rmSync(this.dir, { recursive: true, force: true })
  }

  /** The server's log, for a failure message. */
  logTail(): string {
    const log = join(this.dir, 'server.log')
    return existsSync(log) ? readFileSync(log, 'utf8').slice(-4_000) : ''
  }

  private async asPostgres(tool: string, args: readonly string[]): Promise<void> {
    try {
      await run('runuser', ['-u', 'postgres', '--', join(this.bin, tool), ...args], { timeout: 90_000 })
    } catch (err) {
      const e = err as Error & { stdout?: string; stderr?: string }
      throw new Error(`${tool} ${args.join(' ')} failed: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}\n${this.logTail()}`, { cause: err })
    }
  }

  private async postgresUser(): Promise<{ uid: number; gid: number }> {
    if (process.getuid?.() !== 0) throw new Error('a test Postgres instance is run as the postgres OS user through runuser, which needs root')
    const { stdout } = await run('id', ['-u', 'postgres']).catch(() => {
      throw new Error('no `postgres` OS user: install Debian postgresql')
    })
    const gid = (await run('id', ['-g', 'postgres'])).stdout
    return { uid: Number(stdout.trim()), gid: Number(gid.trim()) }
  }
}
