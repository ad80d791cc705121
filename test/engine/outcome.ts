import { eventStreamTopic, TOPICS, type EventLog } from '../../src/log/event-log.ts'
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
    checkpoints.push(await store.loadCheckpoint('engine', p))
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
