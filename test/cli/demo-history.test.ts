import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import type { RunningServer } from '../../src/api/server.ts'
import { seedPredictionHistory } from '../../src/cli/demo-history.ts'
import { defaultConfig } from '../../src/api/config.ts'
import { openEventLog } from '../../src/log/open-log.ts'
import { tempDir } from '../support/ndjson.ts'

const tmp = tempDir()
afterAll(() => tmp.remove())

// The demo's Ctrl-C once waited for a whole prediction run (~14 s): stopped while the history was
// being filed, the demo still started the run, and its stop (an abort listener added after the
// abort) never came.
describe("the demo's prediction history", () => {
  it('starts no run once the demo is stopped while the warehouse files the history', async () => {
    const dataDir = join(tmp.dir, 'demo')
    const { log } = await openEventLog(join(dataDir, 'log'), { partitions: 2 })
    try {
      const stop = new AbortController()
      // The sink has filed everything, and the Ctrl-C lands while that is being read.
      const committed = () => {
        stop.abort()
        return Promise.resolve(Number.MAX_SAFE_INTEGER)
      }
      let started = 0
      const server = {
        ctx: {
          log: new Proxy(log, { get: (target, key) => (key === 'committed' ? committed : Reflect.get(target, key, target)) }),
          partitions: 2,
          config: defaultConfig({ dataDir, logUrl: join(dataDir, 'log') }),
          predictions: {
            start: () => {
              started++
              return { done: new Promise(() => undefined), stop: () => Promise.resolve() }
            },
          },
        },
      } as unknown as RunningServer
      const lines: string[] = []
      await Promise.race([seedPredictionHistory(server, dataDir, (l) => lines.push(l), stop.signal), new Promise((resolve) => setTimeout(resolve, 30_000))])
      expect(lines.join('\n')).toMatch(/events of 3,000 simulated players over 45 days added/)
      expect(started).toBe(0)
    } finally {
      await log.close()
    }
  }, 60_000)
})
