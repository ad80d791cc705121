import type { Admin, ConnectionOptions } from '@platformatic/kafka'
import type { AppendRecord, AppendResult, LogTransaction, WriterToken } from '../event-log.ts'
import { Appender } from './appender.ts'
import { IdempotentProducer } from './producer.ts'
import { recordSize } from './records.ts'

/*
 * A transactional writer on Kafka (docs/kafka.md, "Transactions"): one transactional producer,
 * appends coalesced as the log's own (appender.ts), EndTxn at commit. Opening it is InitProducerId,
 * which is what fences an earlier writer of the id: the coordinator bumps the epoch, aborts the old
 * writer's open transaction, and refuses its produce requests and commits from then on.
 */

/** How long a transaction may stay open before the broker aborts it: bounds how long a writer that stopped without aborting (killed, paused) holds readers back. */
export const TRANSACTION_TIMEOUT_MS = 10_000

export interface TransactionContext {
  admin: Admin
  clientId: string
  connection: ConnectionOptions
  /** The topic's name in the cluster (the URL's prefix). */
  name(topic: string): string
  /** Rejects unknown topics and partitions. */
  check(topic: string, partition: number): Promise<void>
}

export class KafkaTransaction implements LogTransaction {
  /** Appends issued since the last commit or abort. */
  private issued: Array<Promise<unknown>> = []
  /** Keeps appends in call order through their topic checks (as KafkaEventLog.append). */
  private order: Promise<void> = Promise.resolve()

  private constructor(
    readonly id: string,
    readonly token: WriterToken,
    private readonly producer: IdempotentProducer,
    private readonly appender: Appender,
    private readonly ctx: TransactionContext,
  ) {}

  static async open(ctx: TransactionContext, id: string): Promise<KafkaTransaction> {
    const producer = new IdempotentProducer(ctx.admin, {
      clientId: `${ctx.clientId}-txn`,
      connection: ctx.connection,
      timeoutMs: 30_000,
      attempts: 6,
      transaction: { id: ctx.name(id), timeoutMs: TRANSACTION_TIMEOUT_MS },
    })
    try {
      const identity = await producer.identityNow()
      const appender = new Appender(producer, { maxBatchBytes: 768 * 1024, maxRequestBytes: 16 * 1024 * 1024 })
      return new KafkaTransaction(id, { producerId: Number(identity.producerId), epoch: identity.producerEpoch }, producer, appender, ctx)
    } catch (err) {
      await producer.close()
      throw err
    }
  }

  append(topic: string, partition: number, records: readonly AppendRecord[]): Promise<AppendResult> {
    const checked = this.order.then(() => this.ctx.check(topic, partition))
    this.order = checked.catch(() => undefined)
    const appended = checked.then(() => {
      let bytes = 0
      for (const r of records) bytes += recordSize(r)
      return records.length === 0 ? { baseOffset: -1, count: 0 } : this.appender.append(this.ctx.name(topic), partition, records, bytes)
    })
    this.issued.push(appended)
    return appended
  }

  /** Appends issued while a commit or abort is under way wait for it: they belong to the next transaction. */
  commit(): Promise<void> {
    // The appends this commit covers are the ones issued before it; later ones wait for it (order).
    const issued = this.take()
    return this.end(async () => {
      const outcomes = await Promise.allSettled(issued)
      for (const o of outcomes) if (o.status === 'rejected') throw o.reason
      await this.producer.endTransaction(true)
    })
  }

  abort(): Promise<void> {
    const issued = this.take()
    return this.end(async () => {
      await Promise.allSettled(issued)
      await this.producer.endTransaction(false)
    })
  }

  private take(): Array<Promise<unknown>> {
    const issued = this.issued
    this.issued = []
    return issued
  }

  private end(op: () => Promise<void>): Promise<void> {
    const done = this.order.then(op)
    this.order = done.catch(() => undefined)
    return done
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.issued)
    await this.producer.close()
  }
}
