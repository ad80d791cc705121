import { setTimeout as sleep } from 'node:timers/promises'
import { ConnectionPool, ProtocolError, Writer, initProducerIdV4, produceV9, type Admin, type Connection, type ConnectionOptions } from '@platformatic/kafka'
import { WriterFencedError, type AppendRecord } from '../event-log.ts'
import { isRetriable } from './kafka-errors.ts'
import { encodeRecordBatch, nextSequence, type ProducerIdentity } from './record-batch.ts'
import { TransactionCoordinator } from './transaction-coordinator.ts'

/*
 * An idempotent producer for pre-partitioned batches: InitProducerId once, then Produce requests
 * (acks=all) whose batches carry the producer id and a per-partition sequence, so a retried request
 * can never be written twice. The caller (Appender) sends one request at a time, which is what keeps
 * the sequences right; requests to different leaders of that one round go out in parallel.
 * Retriable failures (leader moved, broker restarting, timeouts) are retried with the same bytes;
 * anything else fails the batch and retires the producer id, so the next batch starts a new sequence.
 * With `transaction` set it is a transactional producer (transaction.ts): its id comes from the
 * transaction coordinator under the transactional id, each partition joins the open transaction
 * before its first batch, batches are marked transactional, and a failure ends the writer instead.
 */

export interface PartitionBatch {
  topic: string
  partition: number
  records: readonly AppendRecord[]
}

export interface ProducerSettings {
  clientId: string
  /** A transactional producer (transaction.ts): its id and how long the broker lets a transaction stay open before aborting it. */
  transaction?: { id: string; timeoutMs: number }
  connection: ConnectionOptions
  /** How long the broker may take to replicate a batch to every in-sync replica (Produce timeout_ms). */
  timeoutMs: number
  /** Attempts for a retriable failure before the append is failed. */
  attempts: number
}

const ACKS_ALL = -1
// Produce errors that mean a newer producer with our transactional id exists.
const INVALID_PRODUCER_EPOCH = 47
const PRODUCER_FENCED = 90
// About 20 s: a broker that has just started loads its coordinators first.
const INIT_ATTEMPTS = 30

interface Outgoing {
  batch: PartitionBatch
  key: string
  bytes: Buffer
  sequence: number
}

export class IdempotentProducer {
  private identity: ProducerIdentity | null = null
  private readonly sequences = new Map<string, number>()
  private readonly pool: ConnectionPool
  private closed = false
  /** Transactional only: the coordinator, the partitions in the open transaction, and the failure that ended the writer. */
  private readonly coordinator: TransactionCoordinator | null
  private readonly enlisted = new Set<string>()
  private broken: Error | null = null

  constructor(
    private readonly admin: Admin,
    private readonly settings: ProducerSettings,
  ) {
    this.pool = new ConnectionPool(settings.clientId, settings.connection)
    const t = settings.transaction
    this.coordinator = t ? new TransactionCoordinator(admin, this.pool, t.id, t.timeoutMs) : null
  }

  /** The producer id and epoch, asked for on first use (a transactional one fences its earlier epochs then). */
  async identityNow(): Promise<ProducerIdentity> {
    return (this.identity ??= this.coordinator ? await this.coordinator.initProducerId() : await this.initProducerId())
  }

  /** Base offset per batch (same order), or the error that failed it. */
  async produce(batches: readonly PartitionBatch[]): Promise<Array<number | Error>> {
    const results: Array<number | Error> = new Array(batches.length)
    if (this.broken) return results.fill(this.broken)
    let identity: ProducerIdentity
    try {
      identity = await this.identityNow()
      if (this.coordinator) await this.enlist(identity, batches)
    } catch (err) {
      if (this.coordinator) this.broken ??= err as Error
      return results.fill(err as Error)
    }
    const now = Date.now()
    const transactional = this.coordinator !== null
    let pending: Array<{ index: number; out: Outgoing }> = batches.map((batch, index) => {
      const key = `${batch.topic}\0${batch.partition}`
      const sequence = this.sequences.get(key) ?? 0
      return { index, out: { batch, key, sequence, bytes: encodeRecordBatch(batch.records, identity, sequence, now, transactional) } }
    })
    let failed = false
    for (let attempt = 1; pending.length > 0; attempt++) {
      const retry: typeof pending = []
      const byLeader = await this.leaders(
        pending.map((p) => p.out.batch.topic),
        attempt > 1,
      )
      const groups = new Map<number, typeof pending>()
      for (const p of pending) {
        const leader = byLeader.get(p.out.batch.topic)?.[p.out.batch.partition]
        if (leader === undefined || leader < 0) {
          retry.push(p)
          continue
        }
        let group = groups.get(leader)
        if (!group) groups.set(leader, (group = []))
        group.push(p)
      }
      await Promise.all(
        [...groups].map(async ([leader, group]) => {
          const outcome = await this.send(
            leader,
            group.map((g) => g.out),
          )
          group.forEach((g, i) => {
            const r = outcome[i]!
            if (typeof r === 'number') {
              results[g.index] = r
              this.sequences.set(g.out.key, nextSequence(g.out.sequence, g.out.batch.records.length))
            } else if (isRetriable(r) && attempt < this.settings.attempts && !this.closed) {
              retry.push(g)
            } else {
              results[g.index] = r
              failed = true
            }
          })
        }),
      )
      if (retry.length > 0 && attempt >= this.settings.attempts) {
        for (const p of retry) results[p.index] = new Error(`Kafka did not accept the batch for ${p.out.batch.topic} partition ${p.out.batch.partition} after ${attempt} attempts`)
        failed = true
        break
      }
      pending = retry
      if (pending.length > 0) await sleep(Math.min(1_000, 100 * attempt))
    }
    // The broker may hold part of a failed batch's sequence range: a new producer id starts clean.
    // A transactional producer cannot start over (its open transaction would be lost unseen): the
    // writer ends, and its owner aborts and opens a new one.
    if (failed && this.coordinator) this.broken ??= results.find((r): r is Error => r instanceof Error) ?? new Error('a transactional append failed')
    else if (failed) this.retire()
    return results
  }

  /** Transactional: commits (or aborts) the open transaction; the next produce begins another. */
  async endTransaction(commit: boolean): Promise<void> {
    const coordinator = this.coordinator
    if (!coordinator) throw new Error('not a transactional producer')
    if (commit && this.broken) throw this.broken
    if (this.identity === null || this.enlisted.size === 0) return
    try {
      await coordinator.end(this.identity, commit)
    } catch (err) {
      this.broken ??= err as Error
      throw err
    } finally {
      if (!commit) this.enlisted.clear()
    }
    this.enlisted.clear()
  }

  /** Adds the partitions the open transaction does not hold yet (AddPartitionsToTxn): a produce to one not added is refused. */
  private async enlist(identity: ProducerIdentity, batches: readonly PartitionBatch[]): Promise<void> {
    const missing = new Map<string, number[]>()
    for (const b of batches) {
      const key = `${b.topic}\0${b.partition}`
      if (this.enlisted.has(key)) continue
      let list = missing.get(b.topic)
      if (!list) missing.set(b.topic, (list = []))
      if (!list.includes(b.partition)) list.push(b.partition)
    }
    if (missing.size === 0) return
    await this.coordinator!.addPartitions(identity, missing)
    for (const [topic, partitions] of missing) for (const p of partitions) this.enlisted.add(`${topic}\0${p}`)
  }

  async close(): Promise<void> {
    this.closed = true
    await this.pool.close()
  }

  private retire(): void {
    this.identity = null
    this.sequences.clear()
  }

  /** A new producer id; retried while a fresh cluster is still loading its coordinators. */
  private async initProducerId(): Promise<ProducerIdentity> {
    for (let attempt = 1; ; attempt++) {
      try {
        const metadata = await this.admin.metadata({ topics: [] })
        const connection = await this.pool.getFirstAvailable([...metadata.brokers.values()])
        const r = await initProducerIdV4.api.async(connection, null, this.settings.timeoutMs, -1n, -1)
        return { producerId: r.producerId, producerEpoch: r.producerEpoch }
      } catch (err) {
        if (this.closed || attempt >= INIT_ATTEMPTS || !isRetriable(err)) throw err
        await sleep(Math.min(1_000, 100 * attempt))
      }
    }
  }

  /** Leader broker per partition of each topic. */
  private async leaders(topics: string[], refresh: boolean): Promise<Map<string, number[]>> {
    const metadata = await this.admin.metadata({ topics: [...new Set(topics)], forceUpdate: refresh })
    const out = new Map<string, number[]>()
    for (const [name, t] of metadata.topics)
      out.set(
        name,
        t.partitions.map((p) => p.leader),
      )
    this.brokers = metadata.brokers
    return out
  }

  private brokers: Map<number, { host: string; port: number }> = new Map()

  /** One Produce request to one leader; a result per batch. */
  private async send(leader: number, outgoing: readonly Outgoing[]): Promise<Array<number | Error>> {
    const broker = this.brokers.get(leader)
    if (!broker) return outgoing.map(() => new ProtocolError('LEADER_NOT_AVAILABLE'))
    let connection: Connection
    try {
      connection = await this.pool.get(broker)
    } catch (err) {
      return outgoing.map(() => err as Error)
    }
    let response: produceV9.ProduceResponse
    try {
      response = await new Promise<produceV9.ProduceResponse>((resolve, reject) => {
        connection.send(
          0,
          9,
          () => this.request(outgoing),
          produceV9.parseResponse,
          true,
          true,
          (err, r) => (err ? reject(err) : resolve(r as produceV9.ProduceResponse)),
        )
      })
    } catch (err) {
      // Partition errors come back inside a ResponseError with the whole response attached.
      const attached = (err as { response?: produceV9.ProduceResponse }).response
      if (!attached?.responses) return outgoing.map(() => err as Error)
      response = attached
    }
    const byKey = new Map<string, produceV9.ProduceResponsePartition>()
    for (const t of response.responses) for (const p of t.partitionResponses) byKey.set(`${t.name}\0${p.index}`, p)
    return outgoing.map((o) => {
      const p = byKey.get(o.key)
      if (!p) return new Error(`no Produce answer for ${o.batch.topic} partition ${o.batch.partition}`)
      if (p.errorCode === 0) return Number(p.baseOffset)
      if (this.coordinator && (p.errorCode === INVALID_PRODUCER_EPOCH || p.errorCode === PRODUCER_FENCED)) return new WriterFencedError(this.coordinator.id)
      return refused(o.batch, new ProtocolError(p.errorCode, p.errorMessage))
    })
  }

  /** Produce v9 (flexible): transactional id, acks, timeout, then topic → partition → records. */
  private request(outgoing: readonly Outgoing[]): Writer {
    const byTopic = new Map<string, Outgoing[]>()
    for (const o of outgoing) {
      let list = byTopic.get(o.batch.topic)
      if (!list) byTopic.set(o.batch.topic, (list = []))
      list.push(o)
    }
    const id = this.coordinator?.id
    const w = (id === undefined ? Writer.create().appendUnsignedVarInt(0) : Writer.create().appendString(id)).appendInt16(ACKS_ALL).appendInt32(this.settings.timeoutMs)
    w.appendUnsignedVarInt(byTopic.size + 1)
    for (const [topic, list] of byTopic) {
      w.appendString(topic).appendUnsignedVarInt(list.length + 1)
      for (const o of list) {
        w.appendInt32(o.batch.partition)
          .appendUnsignedVarInt(o.bytes.length + 1)
          .append(o.bytes)
          .appendTaggedFields()
      }
      w.appendTaggedFields()
    }
    return w.appendTaggedFields()
  }
}

/** The broker's error id and text, and where: "Kafka refused … partition 3 of events: MESSAGE_TOO_LARGE (…)". */
function refused(batch: PartitionBatch, err: ProtocolError): Error {
  const id = (err as { apiId?: string }).apiId ?? 'error'
  const wrapped = new Error(`Kafka refused the batch for partition ${batch.partition} of ${batch.topic}: ${id} (${err.message})`, { cause: err })
  // Retriability stays readable for the retry loop.
  return Object.assign(wrapped, { canRetry: (err as { canRetry?: boolean }).canRetry === true })
}
