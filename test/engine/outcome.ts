import { eventStreamTopic, TOPICS, type EventLog } from '../../src/log/event-log.ts'
import { recordsInRange } from '../../src/log/read-range.ts'
import type { StateStore } from '../../src/state/state-store.ts'

/** Every value of a topic, per partition in offset order, as text. */
export async function readAll(log: EventLog, topic: string, partitions: number): Promise<string[][]> {
  const out: string[][] = []
  if ((await log.partitionCount(topic)) === null) return out
  for (let p = 0; p < partitions; p++) {
    const values: string[] = []
    for (let offset = 0; ;) {
      const got = await log.read(topic, p, offset, { maxRecords: 10_000 })
      if (got.length === 0) break
      values.push(...got.map((r) => Buffer.from(r.value).toString()))
      offset = got[got.length - 1]!.offset + 1
    }
    out.push(values)
  }
  return out
}

/**
 * Everything an engine run leaves behind, for comparing a crashed run with an uninterrupted one:
 * the output streams per partition in offset order (player notifications and the `buy` event stream too), the stored users and the checkpoints.
 */
export async function outcome(log: EventLog, store: StateStore, partitions: number) {
  const users: Record<string, string> = {}
  const checkpoints = []
  for (let p = 0; p < partitions; p++) {
    for await (const u of store.loadUsers('engine', p)) users[u.key] = Buffer.from(u.state!).toString('base64')
    const ckpt = await store.loadCheckpoint('engine', p)
    // A checkpoint's output positions are offsets, and a transactional writer's markers take offsets
    // as its commits fall: what must agree between runs is how many records lie before each.
    if (ckpt) for (const [topic, pos] of Object.entries(ckpt.outputs)) ckpt.outputs[topic] = await recordsBefore(log, topic, p, pos)
    checkpoints.push(ckpt)
  }
  return {
    changes: await readAll(log, TOPICS.segmentChanges, partitions),
    notifications: await readAll(log, TOPICS.notifications, partitions),
    players: await readAll(log, TOPICS.playerNotifications, partitions),
    buys: await readAll(log, eventStreamTopic('buy'), partitions),
    users,
    checkpoints,
  }
}

/** How many records of the partition lie before `pos`. */
async function recordsBefore(log: EventLog, topic: string, partition: number, pos: number): Promise<number> {
  let n = 0
  for await (const r of recordsInRange(log, topic, partition, 0, pos)) if (r.offset < pos) n++
  return n
}
