import { setTimeout as sleep } from 'node:timers/promises'
import { ConnectionPool, type Admin, type ConnectionOptions } from '@platformatic/kafka'
import { isRetriable } from './kafka-errors.ts'
import { FETCH_API_KEY, FETCH_VERSION, fetchRequest, parseFetchResponse, type FetchedPartition } from './fetch-api.ts'
import { endOfBatches, holdsRecords, withoutAborted } from './committed-batches.ts'
import { batchSpans } from './records.ts'
import { ResponseBytes } from './response-bytes.ts'
import { BATCH_HEADER, IS_CONTROL } from './batch-layout.ts'

/*
 * A broker answers the requests of one connection strictly in order, so a fetch that long-polls for
 * new records would hold back every other request on its connection: eight partition loops polling
 * through one connection would each wait behind the others' maxWaitMs. Every partition therefore
 * fetches on a connection of its own ("lane"). Reads of the same partition still queue behind each
 * other, which costs nothing when records are there and at most one extra wait when they are not.
 */

// The connection's request timeout is 35 s; a longer wait is split into several fetches.
const MAX_WAIT_PER_FETCH_MS = 20_000
const ATTEMPTS = 4
/** A record batch's header (magic v2): base offset, length, …, last offset delta at 23. */
/**
 * A fetch asks for this many times what one read needs; the whole batches beyond it answer the next
 * reads of the partition. A worker catching up reads 5,000 records a poll: one request of ~0.5 MB
 * each cost a round trip (a syscall each way, the broker's work) and about a fifth of its bytes
 * fetched twice (the part past maxRecords was dropped and asked for again).
 */
const READ_AHEAD = 4
/** Records read ahead are served for this long at most: a read never sees records older than that which retention has since removed. */
const AHEAD_MS = 1_000
const NONE = ResponseBytes.of([])

interface Lane {
  pool: ConnectionPool
  /** Running average of stored bytes per record, to size the next fetch to what maxRecords needs. */
  bytesPerRecord: number
  /** Whole record batches of the last response not yet read past, and when they were fetched. */
  ahead: ResponseBytes | null
  aheadAt: number
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
  private closed = false

  constructor(
    private readonly admin: Admin,
    private readonly clientId: string,
    private readonly connection: ConnectionOptions,
  ) {}

  /** Record batches from the one holding `offset` on (empty when none came in time); throws OFFSET_OUT_OF_RANGE as the broker does. */
  async fetch(req: FetchRequest): Promise<ResponseBytes> {
    return (await this.fetchFrom(req)).bytes
  }

  /**
   * As fetch(), with where a reader goes on from when the bytes hold no record: past the markers
   * and aborted records read over (`next`, else the offset asked for).
   */
  async fetchFrom(req: FetchRequest): Promise<{ bytes: ResponseBytes; next: number }> {
    const lane = this.lane(req.topic, req.partition)
    const ahead = this.fromAhead(lane, req.offset, req.maxRecords)
    if (ahead !== null) return { bytes: ahead, next: req.offset }
    // READ_AHEAD times enough for maxRecords at the size seen so far, never far past maxBytes: the
    // response is held in memory until read past, and the broker reads and sends every byte asked for.
    const want = Math.ceil(req.maxRecords * lane.bytesPerRecord * 1.2) + 16_384
    const fetchBytes = Math.max(65_536, Math.min(READ_AHEAD * want, req.maxBytes + 65_536))
    const deadline = Date.now() + req.maxWaitMs
    let from = req.offset
    for (let attempt = 1; ; attempt++) {
      try {
        for (;;) {
          const wait = Math.max(0, Math.min(MAX_WAIT_PER_FETCH_MS, deadline - Date.now()))
          const fetched = await this.fetchOnce(req, from, lane, wait, fetchBytes, attempt > 1)
          const raw = fetched?.records ?? null
          let records = raw && fetched!.aborted.length > 0 ? withoutAborted(raw, fetched!.aborted) : raw
          if (raw !== null && raw.length > 0 && (records === null || !holdsRecords(records))) {
            // Only transaction markers and aborted records: nothing a reader sees. Read on past
            // them (past the deadline too: each fetch moves on), or a reader would be answered
            // with nothing at once, and again from the same offset, forever.
            const end = endOfBatches(raw)
            records = null
            if (end !== null && end > from) {
              from = end
              continue
            }
          }
          if ((records && records.length > 0) || Date.now() >= deadline) {
            if (records) this.learn(lane, records)
            lane.ahead = records
            lane.aheadAt = Date.now()
            return { bytes: records ?? NONE, next: from }
          }
        }
      } catch (err) {
        if (this.closed) throw new Error('the Kafka event log was closed during the read', { cause: err })
        // A moved leader, a broker restarting, a dropped connection: fresh metadata and again.
        if (attempt >= ATTEMPTS || !isRetriable(err)) throw err
        await sleep(100 * attempt)
      }
    }
  }

  /** Drops what was read ahead of a partition (its records were just deleted). */
  forget(topic: string, partition: number): void {
    const lane = this.lanes.get(`${topic}\0${partition}`)
    if (lane) lane.ahead = null
  }

  /**
   * The records read ahead from the batch holding `offset` on, as the broker would answer a fetch at
   * `offset` (it too starts at that batch), when they hold at least `maxRecords` from there: a read
   * then returns exactly what a fetch would. Null otherwise (or when they are too old): a read near
   * the end of the log fetches, and sees what was appended since.
   */
  private fromAhead(lane: Lane, offset: number, maxRecords: number): ResponseBytes | null {
    const buf = lane.ahead
    if (buf === null) return null
    if (Date.now() - lane.aheadAt > AHEAD_MS) {
      lane.ahead = null
      return null
    }
    let start = -1
    let records = 0
    for (let pos = 0; pos + BATCH_HEADER <= buf.length;) {
      const size = 12 + buf.int32(pos + 8)
      if (pos + size > buf.length) break
      const base = buf.int64(pos)
      const last = base + buf.int32(pos + 23)
      if (start === -1 && base > offset) break
      if (start === -1 && last >= offset) start = pos
      if (start !== -1) {
        // Control batches (transaction markers) hold no records a read returns.
        if ((buf.int16(pos + 21) & IS_CONTROL) === 0) records += last - Math.max(base, offset) + 1
        if (records >= maxRecords) {
          lane.ahead = buf.from(start)
          return lane.ahead
        }
      }
      pos += size
    }
    if (start === -1) lane.ahead = null
    return null
  }

  async close(): Promise<void> {
    this.closed = true
    const lanes = [...this.lanes.values()]
    this.lanes.clear()
    await Promise.all(lanes.map((l) => l.pool.close()))
  }

  private async fetchOnce(req: FetchRequest, offset: number, lane: Lane, maxWaitMs: number, maxBytes: number, refresh: boolean): Promise<FetchedPartition | undefined> {
    const metadata = await this.admin.metadata({ topics: [req.topic], forceUpdate: refresh })
    const partition = metadata.topics.get(req.topic)?.partitions[req.partition]
    const broker = partition ? metadata.brokers.get(partition.leader) : undefined
    if (!partition || !broker) throw new Error(`no leader known for partition ${req.partition} of "${req.topic}"`)
    const connection = await lane.pool.get(broker)
    // Leader epoch -1: no fencing check. Right after a topic is created the epoch in our metadata can be
    // ahead of the broker's own (UNKNOWN_LEADER_EPOCH); a moved leader still answers NOT_LEADER.
    const request = { topic: req.topic, partition: req.partition, offset, leaderEpoch: -1, maxBytes }
    const response = await new Promise<FetchedPartition[]>((resolve, reject) => {
      connection.send(
        FETCH_API_KEY,
        FETCH_VERSION,
        () => fetchRequest(request, maxWaitMs),
        parseFetchResponse,
        true,
        true,
        (err, r) => (err ? reject(err) : resolve(r as FetchedPartition[])),
      )
    })
    return response.find((p) => p.partition === req.partition)
  }

  private lane(topic: string, partition: number): Lane {
    const key = `${topic}\0${partition}`
    let lane = this.lanes.get(key)
    if (!lane) {
      lane = { pool: new ConnectionPool(this.clientId, this.connection), bytesPerRecord: 256, ahead: null, aheadAt: 0 }
      this.lanes.set(key, lane)
    }
    return lane
  }

  private learn(lane: Lane, records: ResponseBytes): void {
    let bytes = 0
    let count = 0
    for (const s of batchSpans(records)) {
      bytes += s.bytes
      count += s.last - s.first + 1
    }
    if (count > 0) lane.bytesPerRecord = 0.7 * lane.bytesPerRecord + 0.3 * (bytes / count)
  }
}
