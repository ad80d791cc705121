import { spawn } from 'node:child_process'
import { join } from 'node:path'
import type { EventLog } from '../../src/log/event-log.ts'
import { openEventLog } from '../../src/log/open-log.ts'
import { EmbeddedStateStore } from '../../src/state/embedded/state-store.ts'
import type { StateStore } from '../../src/state/state-store.ts'

const child = join(import.meta.dirname, 'crash-child.ts')

/**
 * Runs the child until done, or SIGKILLs it once it reports having processed `killAt` events in all
 * (counting from offset 0): kills land by progress, not by time, however fast the engine has become.
 */
export function runEngineChild(dir: string, rulesPath: string, lateness: number, killAt?: number): Promise<'done' | 'killed'> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', child, dir, rulesPath, String(lateness)], { stdio: ['ignore', 'pipe', 'inherit'] })
    let pending = ''
    proc.stdout.on('data', (chunk: Buffer) => {
      pending += chunk.toString()
      const lines = pending.split('\n')
      pending = lines.pop()!
      for (const line of lines) {
        const m = /^at (\d+)$/.exec(line)
        if (killAt !== undefined && m && Number(m[1]) >= killAt) proc.kill('SIGKILL')
      }
    })
    proc.on('exit', (code, signal) => (signal === 'SIGKILL' ? resolve('killed') : code === 0 ? resolve('done') : reject(new Error(`engine exited with ${code}`))))
  })
}

/** Opens a crash run's embedded log and state (what the child wrote), reads them with `read`, and closes them. */
export async function readRun<T>(dir: string, read: (log: EventLog, store: StateStore, partitions: number) => Promise<T>): Promise<T> {
  const { log, partitions } = await openEventLog(join(dir, 'log'))
  const store = EmbeddedStateStore.open(join(dir, 'state'))
  try {
    return await read(log, store, partitions)
  } finally {
    await store.close()
    await log.close()
  }
}
