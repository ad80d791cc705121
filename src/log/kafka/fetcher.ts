import { ConnectionPool, type ConnectionOptions, type Consumer, type RecordsBatch } from '@platformatic/kafka'
import { hasKafkaError } from './kafka-errors.ts'

/*
 * A broker answers the requests of one connection strictly in order, so a fetch that long-polls for
 * new records would hold back every other request on its connection: eight partition loops polling
 * through one connection would each wait behind the others' maxWaitMs. Every partition therefore
 * fetches on a connection of its own ("lane"). Reads of the same partition still queue behind each
 * other, which costs nothing when records are there and at most one extra wait when they are not.
 */

// The connection's request timeout is 30 s; a longer wait is split into several fetches.
const MAX_WAIT_PER_FETCH_MS = 20_000

interface Lane {
  pool: ConnectionPool
  /** Running average of stored bytes per record, to size the next fetch to what maxRecords needs. */
  bytesPerRecord: number
}

export interface FetchRequest {
  topic: string
  partition: number
  offset: number
  maxWaitMs: number
  maxRecords: number
  maxBytes: number
}

export class Fetcher {
  private readonly lanes = new Map<string, Lane>()

  constructor(
    private readonly consumer: Consumer,
    private readonly clientId: string,
    private readonly connection: ConnectionOptions,
  ) {}

  /** Whole record batches from the one holding `offset` on; throws OFFSET_OUT_OF_RANGE as the broker does. */
  async fetch(req: FetchRequest): Promise<RecordsBatch[]> {
    const lane = this.lane(req.topic, req.partition)
    // Enough for maxRecords at the size seen so far, never far past maxBytes: the client decodes
    // every record it receives, so asking for 4 MiB to return 10 records would cost real time.
    const want = Math.ceil(req.maxRecords * lane.bytesPerRecord * 1.2) + 16_384
    const fetchBytes = Math.max(65_536, Math.min(want, req.maxBytes + 65_536))
    const deadline = Date.now() + req.maxWaitMs
    for (let staleRetry = true; ; ) {
      try {
        for (;;) {
          const wait = Math.max(0, Math.min(MAX_WAIT_PER_FETCH_MS, deadline - Date.now()))
          const batches = await this.fetchOnce(req, lane, wait, fetchBytes)
          if (batches.length > 0 || Date.now() >= deadline) {
            this.learn(lane, batches)
            return batches
          }
        }
      } catch (err) {
        // A moved leader or a partition the cached metadata does not know yet: refresh once.
        if (!staleRetry || !hasKafkaError(err, 'hasStaleMetadata')) throw err
        staleRetry = false
        this.consumer.clearMetadata()
      }
    }
  }

  async close(): Promise<void> {
    const lanes = [...this.lanes.values()]
    this.lanes.clear()
    await Promise.all(lanes.map((l) => l.pool.close()))
  }

  private async fetchOnce(req: FetchRequest, lane: Lane, maxWaitMs: number, fetchBytes: number): Promise<RecordsBatch[]> {
    const metadata = await this.consumer.metadata({ topics: [req.topic] })
    const topic = metadata.topics.get(req.topic)
    const partition = topic?.partitions[req.partition]
    if (!topic || !partition) throw new Error(`no metadata for partition ${req.partition} of "${req.topic}"`)
    const response = await this.consumer.fetch({
      node: partition.leader,
      topics: [
        {
          topicId: topic.id,
          partitions: [
            {
              partition: req.partition,
              fetchOffset: BigInt(req.offset),
              partitionMaxBytes: fetchBytes,
              currentLeaderEpoch: partition.leaderEpoch,
              lastFetchedEpoch: -1,
            },
          ],
        },
      ],
      maxWaitTime: maxWaitMs,
      minBytes: 1,
      maxBytes: fetchBytes,
      connectionPool: lane.pool,
    })
    return response.responses[0]?.partitions[0]?.records ?? []
  }

  private lane(topic: string, partition: number): Lane {
    const key = `${topic}\0${partition}`
    let lane = this.lanes.get(key)
    if (!lane) {
      lane = { pool: new ConnectionPool(this.clientId, this.connection), bytesPerRecord: 256 }
      this.lanes.set(key, lane)
    }
    return lane
  }

  private learn(lane: Lane, batches: readonly RecordsBatch[]): void {
    let bytes = 0
    let records = 0
    for (const b of batches) {
      bytes += b.length + 12
      records += b.lastOffsetDelta + 1
    }
    if (records > 0) lane.bytesPerRecord = 0.7 * lane.bytesPerRecord + 0.3 * (bytes / records)
  }
}
