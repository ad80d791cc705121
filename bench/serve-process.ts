import { spawn, type ChildProcess } from 'node:child_process'
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

export const BENCH_KEY = 'bench-key'

export interface ServeProcess {
  url: string
  proc: ChildProcess
  stop(): Promise<void>
}

/** The Node flags bin/tagstream.mjs starts with (its `#!/usr/bin/env -S node …` line), for spawning it as users run it. */
export function binNodeFlags(): string[] {
  const first = readFileSync(join(import.meta.dirname, '../bin/tagstream.mjs'), 'utf8').split('\n', 1)[0]!
  // BENCH_NODE_FLAGS: more flags for the processes a bench starts (`--cpu-prof --cpu-prof-dir=…` to
  // profile them: Node refuses --cpu-prof in NODE_OPTIONS).
  const extra = process.env.BENCH_NODE_FLAGS?.split(/\s+/).filter((a) => a.length > 0) ?? []
  return [...first.split(/\s+/).filter((a) => a.startsWith('--')), ...extra]
}

/** `tagstream serve` in its own process, as users run it, so the load generator does not share its event loop. */
export async function startServeProcess(dir: string, rules: string, extraArgs: string[] = [], env: Record<string, string> = {}): Promise<ServeProcess> {
  mkdirSync(dir, { recursive: true })
  const rulesPath = join(dir, 'segments.yaml')
  writeFileSync(rulesPath, rules)
  const proc = spawn(process.execPath, [...binNodeFlags(), 'bin/tagstream.mjs', '--data', dir, 'serve', '--port', '0', '--segments', rulesPath, ...extraArgs], {
    env: { ...process.env, TAGSTREAM_API_KEYS: `${BENCH_KEY}:default:write+read+admin+operator`, TAGSTREAM_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const url = await new Promise<string>((resolve, reject) => {
    let out = ''
    proc.stdout!.on('data', (c: Buffer) => {
      out += c.toString()
      const m = /listening on (http:\/\/\S+)/.exec(out)
      if (m) resolve(m[1]!)
    })
    proc.on('exit', (code) => reject(new Error(`server exited with ${code}`)))
  })
  return {
    url,
    proc,
    async stop() {
      if (proc.exitCode !== null) return
      proc.kill('SIGINT')
      await new Promise((r) => proc.once('exit', r))
    },
  }
}

/** Waits until the engine has applied everything in the log (/readyz lag 0). */
export async function engineCaughtUp(url: string, timeoutMs = 600_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const ready = (await (await fetch(`${url}/readyz`)).json()) as { lag?: number }
    if (ready.lag === 0) return true
    await new Promise((r) => setTimeout(r, 100))
  }
  return false
}

/** CPU seconds (user + system) in a /proc stat file; clock ticks at USER_HZ = 100. */
function statSeconds(path: string): number {
  const stat = readFileSync(path, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) / 100
}

/** CPU seconds of each thread of a process so far, by thread id (the main thread's id is the process's). */
export function threadCpu(pid: number): Map<number, number> {
  const out = new Map<number, number>()
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      out.set(Number(tid), statSeconds(`/proc/${pid}/task/${tid}/stat`))
    } catch {
      // A thread that ended between the listing and the read.
    }
  }
  return out
}

/**
 * CPU seconds between two threadCpu readings: the main thread's, the busiest other thread's (in a
 * serve process under identity traffic, the engine thread), and all threads'.
 */
export function cpuBetween(pid: number, before: Map<number, number>, after: Map<number, number>): { main: number; busiest: number; all: number } {
  let main = 0
  let busiest = 0
  let all = 0
  for (const [tid, t] of after) {
    const d = t - (before.get(tid) ?? 0)
    all += d
    if (tid === pid) main = d
    else busiest = Math.max(busiest, d)
  }
  return { main, busiest, all }
}
