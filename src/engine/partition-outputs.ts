import { eventStreamTopic, TOPICS, type AppendRecord, type EventLog } from '../log/event-log.ts'
import type { EngineRules } from './engine-rules.ts'
import type { EngineOutputs } from './partition-engine.ts'

/** The output logs a partition writes for these rules: the fixed ones, then one per event stream. */
export function outputTopics(rules: EngineRules): string[] {
  return [TOPICS.segmentChanges, TOPICS.notifications, TOPICS.identities, TOPICS.playerNotifications, ...rules.streams.map((s) => eventStreamTopic(s.name))]
}

/**
 * One partition's output logs with exactly-once positions (partition-worker.ts): `end` is, per
 * topic, how many records this partition's engine has made since the log began; a checkpoint
 * stores it. After a restore the engine makes the records after the checkpoint again, in the same
 * order; the ones the log already holds (its end beyond the checkpoint's) are skipped, not written
 * twice. Appends are issued at once and tracked: a checkpoint waits until those before it are durable.
 */
export class PartitionOutputs {
  readonly end: Record<string, number> = {}
  private readonly skip: Record<string, number> = {}
  /** Appends issued and not yet known durable. */
  private appending: Promise<void>[] = []

  constructor(
    private readonly log: EventLog,
    private readonly partition: number,
    readonly topics: readonly string[],
    /** A background append failed: the partition stops at its next poll. */
    private readonly onFailure: (err: Error) => void,
  ) {
    for (const t of topics) this.end[t] = this.skip[t] = 0
  }

  /** Positions from the checkpoint (a topic it does not name, e.g. a new event stream, starts at 0). */
  async restore(checkpointed: Readonly<Record<string, number>> | undefined): Promise<Record<string, number>> {
    // An event stream new in the rules file gets its log here if no one made it first (serve makes
    // them before its engine thread opens the log: an embedded log learns of topics when opened).
    const partitions = (await this.log.partitionCount(TOPICS.events)) ?? 1
    for (const topic of this.topics) if ((await this.log.partitionCount(topic)) === null) await this.log.createTopic(topic, { partitions })
    for (const topic of this.topics) {
      const end = (await this.log.offsets(topic, this.partition)).end
      this.end[topic] = checkpointed?.[topic] ?? 0
      this.skip[topic] = Math.max(0, end - this.end[topic])
    }
    return { ...this.skip }
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
    if (this.appending.length >= 64) this.appending = [Promise.all(this.appending).then(() => undefined)]
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
    this.appending = [all]
    await all
  }

  private append(topic: string, items: readonly object[]): void {
    if (items.length === 0) return
    if (!(topic in this.end)) throw new Error(`output topic "${topic}" is not one of this partition's (${this.topics.join(', ')})`)
    const already = Math.min(this.skip[topic]!, items.length)
    this.skip[topic]! -= already
    this.end[topic]! += items.length
    if (already === items.length) return
    const records: AppendRecord[] = []
    for (let i = already; i < items.length; i++) {
      const item = items[i] as { tenant: string; user_id: string; at: number }
      records.push({ key: `${item.tenant}:${item.user_id}`, value: Buffer.from(JSON.stringify(item)), timestamp: item.at })
    }
    // Appends to one partition keep the order they were issued in (the EventLog contract).
    this.track(this.log.append(topic, this.partition, records))
  }
}
