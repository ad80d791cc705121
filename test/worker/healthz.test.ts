/**
 * A worker's /healthz (src/worker/metrics-server.ts) answers for what the worker says of itself:
 * 503 with the reason until it has joined its group and whenever it is out of it or a partition
 * stopped, 200 otherwise. (The real workers' answers: test/worker/metrics.test.ts over Kafka.)
 */
import { afterAll, describe, expect, it } from 'vitest'
import { WorkerMetricsServer, type WorkerPartitions } from '../../src/worker/metrics-server.ts'

describe('tagstream worker /healthz', () => {
  let server: WorkerMetricsServer | null = null
  afterAll(() => server?.close())

  it('is 503 while joining or in trouble, with the reason, and 200 once all is well', async () => {
    server = await WorkerMetricsServer.start('127.0.0.1', 0)
    const health = async () => {
      const res = await fetch(`${server!.url}/healthz`)
      return [res.status, await res.text()]
    }
    expect(await health()).toEqual([503, 'joining the group\n'])
    let trouble: string | null = 'not a member of the consumer group: joining it again'
    const worker: WorkerPartitions = { id: 'w', lag: async () => new Map(), owned: () => [0, 1], trouble: () => trouble }
    server.watch(worker)
    expect(await health()).toEqual([503, 'not a member of the consumer group: joining it again\n'])
    trouble = null
    expect(await health()).toEqual([200, 'ok\n'])
    trouble = 'partition 1 stopped: connect ECONNREFUSED 127.0.0.1:5432'
    expect(await health()).toEqual([503, 'partition 1 stopped: connect ECONNREFUSED 127.0.0.1:5432\n'])
  })
})
