import { setTimeout as sleep } from 'node:timers/promises'
import { addPartitionsToTxnV3, endTxnV3, findCoordinatorV4, initProducerIdV4, type Admin, type Connection, type ConnectionPool } from '@platformatic/kafka'
import { WriterFencedError } from '../event-log.ts'
import { hasKafkaError, isRetriable } from './kafka-errors.ts'
import type { ProducerIdentity } from './record-batch.ts'

/*
 * The calls a transactional producer makes to its transaction coordinator (the broker that owns its
 * transactional id's slot in __transaction_state), each retried while the broker says to: the
 * coordinator moved or is loading, or the previous transaction's markers are still being written
 * (CONCURRENT_TRANSACTIONS, right after a commit or an abort). A newer producer with the same id
 * answers PRODUCER_FENCED or INVALID_PRODUCER_EPOCH: that is final, a WriterFencedError.
 */

const COORDINATOR_TRANSACTION = 1
// About 20 s: a broker that has just started loads __transaction_state first.
const ATTEMPTS = 40

export class TransactionCoordinator {
  private connection: Connection | null = null

  constructor(
    private readonly admin: Admin,
    private readonly pool: ConnectionPool,
    readonly id: string,
    private readonly timeoutMs: number,
  ) {}

  /** A new epoch of the id's producer: every earlier one is fenced and its open transaction aborted. */
  async initProducerId(): Promise<ProducerIdentity> {
    const r = await this.call((c) => initProducerIdV4.api.async(c, this.id, this.timeoutMs, -1n, -1))
    return { producerId: r.producerId, producerEpoch: r.producerEpoch }
  }

  async addPartitions(identity: ProducerIdentity, topics: ReadonlyMap<string, readonly number[]>): Promise<void> {
    const list = [...topics].map(([name, partitions]) => ({ name, partitions: [...partitions] }))
    await this.call((c) => addPartitionsToTxnV3.api.async(c, [{ transactionalId: this.id, producerId: identity.producerId, producerEpoch: identity.producerEpoch, verifyOnly: false, topics: list }]))
  }

  async end(identity: ProducerIdentity, commit: boolean): Promise<void> {
    await this.call((c) => endTxnV3.api.async(c, this.id, identity.producerId, identity.producerEpoch, commit))
  }

  private async call<T>(op: (c: Connection) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await op(await this.coordinator())
      } catch (err) {
        if (hasKafkaError(err, 'PRODUCER_FENCED') || hasKafkaError(err, 'INVALID_PRODUCER_EPOCH')) throw new WriterFencedError(this.id, err)
        if (attempt >= ATTEMPTS || !isRetriable(err)) throw err
        // The coordinator may have moved: found again on the next attempt.
        if (!hasKafkaError(err, 'CONCURRENT_TRANSACTIONS')) this.connection = null
        await sleep(Math.min(500, 20 * attempt))
      }
    }
  }

  private async coordinator(): Promise<Connection> {
    if (this.connection) return this.connection
    const metadata = await this.admin.metadata({ topics: [] })
    const any = await this.pool.getFirstAvailable([...metadata.brokers.values()])
    const found = await findCoordinatorV4.api.async(any, COORDINATOR_TRANSACTION, [this.id])
    // An error code for the key is thrown by the client itself (and retried like any other).
    const c = found.coordinators[0]
    if (!c || c.nodeId < 0) throw Object.assign(new Error(`no transaction coordinator for "${this.id}" yet`), { canRetry: true })
    this.connection = await this.pool.get({ host: c.host, port: c.port })
    return this.connection
  }
}
