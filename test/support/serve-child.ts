import { spawn, type ChildProcess } from 'node:child_process'

/** `tagstream serve` as an operator starts it, in its own process, for crash tests. */
export interface ServeChild {
  proc: ChildProcess
  url: string
  /** Its JSON logs so far (stderr). */
  readonly stderr: string
  /** SIGKILL, resolved once the process is gone. */
  kill(): Promise<void>
}

/**
 * Starts `tagstream <global args> serve --port 0 --no-warehouse --clock-tick-ms 0 <serve args>` with
 * one API key (`key`, tenant default, every scope); resolves once it prints where it listens.
 * `warehouse: true` leaves the warehouse sink on.
 */
export async function startServeChild(globalArgs: string[], key: string, serveArgs: string[] = [], options: { warehouse?: boolean; logLevel?: string } = {}): Promise<ServeChild> {
  const warehouse = options.warehouse === true ? [] : ['--no-warehouse']
  const proc = spawn(process.execPath, ['bin/tagstream.mjs', ...globalArgs, 'serve', '--port', '0', ...warehouse, '--clock-tick-ms', '0', ...serveArgs], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, TAGSTREAM_API_KEYS: `${key}:default:write+read+admin+operator`, TAGSTREAM_LOG_LEVEL: options.logLevel ?? 'warn' },
  })
  let out = ''
  let err = ''
  proc.stderr!.on('data', (c: Buffer) => void (err += c.toString()))
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start in 30 s: ${err}`)), 30_000)
    proc.stdout!.on('data', (c: Buffer) => {
      out += c.toString()
      const m = /listening on (http:\/\/\S+)/.exec(out)
      if (m) {
        clearTimeout(timer)
        resolve(m[1]!)
      }
    })
    proc.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`serve exited with ${code}: ${err}`))
    })
  })
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()))
  return {
    proc,
    url,
    get stderr() {
      return err
    },
    kill() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL')
      return exited
    },
  }
}
