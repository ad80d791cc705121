import type { AppendRecord, AppendResult } from '../event-log.ts'
import type { IdempotentProducer } from './producer.ts'

/*
 * Group commit over an idempotent producer. One produce request is in flight at a time; every append
 * that arrives meanwhile joins the next request, and appends to the same partition share one record
 * batch (offsets are handed out in arrival order within it). Why not a send per append: the idempotent
 * producer numbers each batch when the request is built, so two concurrent sends to one partition would
 * carry the same sequence number and the broker would drop the second as a "duplicate". One request at
 * a time keeps the numbering right; coalescing keeps the throughput.
 */

interface Pending {
  topic: string
  partition: number
  records: readonly AppendRecord[]
  bytes: number
  resolve(result: AppendResult): void
  reject(err: Error): void
}

export interface AppenderLimits {
  /** Coalesced appends of one partition stop here; a larger single append goes alone (topics allow 16 MiB). */
  maxBatchBytes: number
  /** A request stops taking appends here. */
  maxRequestBytes: number
}

export class Appender {
  private queue: Pending[] = []
  private flushing = false
  constructor(
    private readonly producer: IdempotentProducer,
    private readonly limits: AppenderLimits,
  ) {}

  append(topic: string, partition: number, records: readonly AppendRecord[], bytes: number): Promise<AppendResult> {
    return new Promise((resolve, reject) => {
      this.queue.push({ topic, partition, records, bytes, resolve, reject })
      if (!this.flushing) void this.flush()
    })
  }

  private async flush(): Promise<void> {
    this.flushing = true
    try {
      while (this.queue.length > 0) await this.send(this.take())
    } finally {
      this.flushing = false
    }
  }

  /** Takes appends off the queue for one request, keeping each partition's appends in arrival order. */
  private take(): Map<string, Pending[]> {
    const groups = new Map<string, Pending[]>()
    const groupBytes = new Map<string, number>()
    const full = new Set<string>()
    const rest: Pending[] = []
    let requestBytes = 0
    for (const p of this.queue) {
      const key = `${p.topic}\0${p.partition}`
      const size = groupBytes.get(key) ?? 0
      const fits = size === 0 || size + p.bytes <= this.limits.maxBatchBytes
      // Once an append of a partition waits, every later one of that partition waits too: order.
      if (full.has(key) || !fits || (requestBytes > 0 && requestBytes + p.bytes > this.limits.maxRequestBytes)) {
        full.add(key)
        rest.push(p)
        continue
      }
      let group = groups.get(key)
      if (!group) groups.set(key, (group = []))
      group.push(p)
      groupBytes.set(key, size + p.bytes)
      requestBytes += p.bytes
    }
    this.queue = rest
    return groups
  }

  private async send(groups: Map<string, Pending[]>): Promise<void> {
    const list = [...groups.values()]
    const batches = list.map((group) => ({
      topic: group[0]!.topic,
      partition: group[0]!.partition,
      records: group.length === 1 ? group[0]!.records : group.flatMap((p) => p.records),
    }))
    let results: Array<number | Error>
    try {
      results = await this.producer.produce(batches)
    } catch (err) {
      results = batches.map(() => err as Error)
    }
    list.forEach((group, i) => {
      const base = results[i]
      let next = typeof base === 'number' ? base : 0
      for (const p of group) {
        if (typeof base !== 'number') {
          p.reject(base ?? new Error(`Kafka did not acknowledge the batch for ${p.topic} partition ${p.partition}`))
          continue
        }
        p.resolve({ baseOffset: next, count: p.records.length })
        next += p.records.length
      }
    })
  }
}
