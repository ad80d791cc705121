import { spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'

/** Support for the replay CLI tests (not a test file itself). */

const ROOT = join(import.meta.dirname, '..', '..')
const T0 = Date.UTC(2026, 10, 1, 10, 0)

export const RULES = `segments:
  busy:
    when: count(spin, 1m) >= 3
  buyer:
    when: sum(purchase.amount, 10m) > 20
triggers:
  cart:
    on: add_to_cart
`

/**
 * Each run starts node on the compiled CLI, and tests start several at once: on a loaded two-core
 * machine (the engine and Kafka tests beside them) a run can outlast the default 60 s.
 */
export const CLI_TIMEOUT_MS = 180_000

export interface CliRun {
  code: number | null
  stdout: Buffer
  stderr: string
}

/** Runs `tagstream …` as a user would (bin/tagstream.mjs in a child process), stdout kept as bytes. */
export function runCli(args: readonly string[]): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'tagstream.mjs'), ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
    const out: Buffer[] = []
    const err: Buffer[] = []
    child.stdout.on('data', (b: Buffer) => out.push(b))
    child.stderr.on('data', (b: Buffer) => err.push(b))
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString('utf8') }))
  })
}

/**
 * A small deterministic workload: users enter and leave `busy` as spins slide out of the minute,
 * buy, and add to cart (the trigger). Time-ordered, 2 s apart; every fifth event has a client id.
 */
export function workload(count = 600): Array<Record<string, unknown>> {
  const events: Array<Record<string, unknown>> = []
  for (let i = 0; i < count; i++) {
    const kind = i % 10
    const e: Record<string, unknown> = {
      event: kind === 7 ? 'purchase' : kind === 8 ? 'add_to_cart' : 'spin',
      user_id: String(((i * 7) % 11) + 1),
      ts: T0 + i * 2_000,
    }
    if (kind === 7) e.amount = (i % 13) + 1
    if (i % 5 === 0) e.event_id = `e${i}`
    events.push(e)
  }
  return events
}

export function writeLines(path: string, lines: ReadonlyArray<object | string>): string {
  writeFileSync(path, lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l)) + '\n').join(''))
  return path
}

/** The summary the command prints (stdout, or stderr's last JSON object with `--changes -`). */
export function summaryOf(text: string): { segments: Record<string, string[]> } & Record<string, unknown> {
  return JSON.parse(text.slice(text.indexOf('{'))) as { segments: Record<string, string[]> } & Record<string, unknown>
}
