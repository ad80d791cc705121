import { eventStreamTopic, TOPICS, type AppendRecord, type EventLog } from '../log/event-log.ts'
import { recordsInRange } from '../log/read-range.ts'
import type { EngineRules } from './engine-rules.ts'
import type { EngineOutputs } from './partition-engine.ts'

/** The output logs a partition writes for these rules: the fixed ones, then one per event stream. */
export function outputTopics(rules: EngineRules): string[] {
  return [TOPICS.segmentChanges, TOPICS.notifications, TOPICS.identities, TOPICS.playerNotifications, ...rules.streams.map((s) => eventStreamTopic(s.name))]
}

/** Where outputs are appended: the log itself, or a transaction on it (a worker on Kafka, docs/deployment.md). */
export type OutputWriter = Pick<EventLog, 'append'>

/**
 * One partition's output logs with exactly-once positions (partition-worker.ts). A checkpoint
 * stores, per topic, the log position after the last record the engine had made by then. After a
 * restore the engine makes the records after the checkpoint again, in the same order; the ones the
 * log already holds after that position are skipped, not written twice. Positions are offsets, not
 * counts: a transactional writer's commit markers and aborted records take offsets too, so the
 * records already there are counted by reading them. Appends are issued at once and tracked: a
 * checkpoint waits until those before it are durable.
 */
export class PartitionOutputs {
  /** Per topic: the position after the last record made so far (an append's, once it resolves). */
  private readonly after: Record<string, Promise<number> | number> = {}
  /** Per topic: the records already in the log beyond the checkpoint, still to be made again. */
  private readonly skip: Record<string, Skip> = {}
  /** Appends issued and not yet known durable. */
  private appending: Promise<void>[] = []

  constructor(
    private readonly log: EventLog,
    private readonly partition: number,
    readonly topics: readonly string[],
    /** A background append failed: the partition stops at its next poll. */
    private readonly onFailure: (err: Error) => void,
    private readonly writer: OutputWriter = log,
  ) {
    for (const t of topics) {
      this.after[t] = 0
      this.skip[t] = new Skip(0, 0, null)
    }
  }

  /** Positions from the checkpoint (a topic it does not name, e.g. a new event stream, starts at 0); returns how many records each topic skips. */
  async restore(checkpointed: Readonly<Record<string, number>> | undefined): Promise<Record<string, number>> {
    // An event stream new in the rules file gets its log here if no one made it first (serve makes
    // them before its engine thread opens the log: an embedded log learns of topics when opened).
    const partitions = (await this.log.partitionCount(TOPICS.events)) ?? 1
    for (const topic of this.topics) if ((await this.log.partitionCount(topic)) === null) await this.log.createTopic(topic, { partitions })
    const counts: Record<string, number> = {}
    for (const topic of this.topics) {
      const from = checkpointed?.[topic] ?? 0
      const end = (await this.log.offsets(topic, this.partition)).end
      let skip: Skip
      // A log without transactions holds its records at consecutive offsets: no need to read them.
      if (this.log.transactional === undefined) skip = new Skip(from, Math.max(0, end - from), null)
      else {
        const there: number[] = []
        for await (const r of recordsInRange(this.log, topic, this.partition, from, end)) there.push(r.offset)
        skip = new Skip(from, there.length, there)
      }
      this.after[topic] = from
      this.skip[topic] = skip
      counts[topic] = skip.left
    }
    return counts
  }

  /** Per topic, the position after every record made so far, once the appends issued so far have resolved. */
  async positions(): Promise<Record<string, number>> {
    const out: Record<string, number> = {}
    const pending = this.topics.map(async (t) => (out[t] = await this.after[t]!))
    await Promise.all(pending)
    return out
  }

  /** Issues the engine's drained records, topic by topic (identity records go elsewhere: partition-worker.ts). */
  issue(out: EngineOutputs): void {
    this.append(TOPICS.segmentChanges, out.changes)
    this.append(TOPICS.notifications, out.notifications)
    this.append(TOPICS.identities, out.links)
    this.append(TOPICS.playerNotifications, out.players)
    if (out.streamed.length === 0) return
    const byStream = new Map<string, object[]>()
    for (const r of out.streamed) {
      let list = byStream.get(r.stream)
      if (list === undefined) byStream.set(r.stream, (list = []))
      list.push(r)
    }
    for (const [stream, items] of byStream) this.append(eventStreamTopic(stream), items)
  }

  /** Tracks an append made elsewhere (dead letters, identity records): durable before the next checkpoint too. */
  track(appended: Promise<unknown>): void {
    const p = appended.then(() => undefined)
    this.appending.push(p)
    if (this.appending.length >= 64) {
      const folded = Promise.all(this.appending).then(() => undefined)
      // Reported through onFailure below; unhandled until a checkpoint waits for it, it would end the process.
      folded.catch(() => undefined)
      this.appending = [folded]
    }
    p.catch((err: unknown) => this.onFailure(err instanceof Error ? err : new Error(String(err))))
  }

  /**
   * Waits until every append issued so far is durable. The list is folded into one promise, not
   * emptied: whoever waits next (a checkpoint under way, then a flush) waits for these too. Emptying
   * it let a flush return while a checkpoint held appends still in flight (EngineRunner.drain then
   * missed identity records, test/engine/identity-drain.test.ts).
   */
  async durable(): Promise<void> {
    if (this.appending.length === 0) return
    const all = this.appending.length === 1 ? this.appending[0]! : Promise.all(this.appending).then(() => undefined)
    all.catch(() => undefined)
    this.appending = [all]
    await all
  }

  private append(topic: string, items: readonly object[]): void {
    if (items.length === 0) return
    const skip = this.skip[topic]
    if (skip === undefined) throw new Error(`output topic "${topic}" is not one of this partition's (${this.topics.join(', ')})`)
    const already = Math.min(skip.left, items.length)
    if (already > 0) this.after[topic] = skip.take(already)
    if (already === items.length) return
    const records: AppendRecord[] = []
    for (let i = already; i < items.length; i++) {
      const item = items[i] as { tenant: string; user_id: string; at: number }
      records.push({ key: `${item.tenant}:${item.user_id}`, value: Buffer.from(JSON.stringify(item)), timestamp: item.at })
    }
    // Appends to one partition keep the order they were issued in (the EventLog contract).
    const appended = this.writer.append(topic, this.partition, records)
    const after = appended.then((r) => r.baseOffset + r.count)
    // Its failure is reported through track(); whoever awaits the position sees it too.
    after.catch(() => undefined)
    this.after[topic] = after
    this.track(appended)
  }
}

/** Records already in an output log after a checkpoint: `left` of them, at consecutive offsets from `at` or at `offsets`. */
class Skip {
  constructor(
    private at: number,
    public left: number,
    private readonly offsets: number[] | null,
  ) {}

  /** Skips `n` of them (n ≤ left); returns the position after the last one. */
  take(n: number): number {
    this.left -= n
    if (this.offsets === null) return (this.at += n)
    const taken = this.offsets.splice(0, n)
    return taken[taken.length - 1]! + 1
  }
}
