import { ConnectionPool, describeGroupsV5, findCoordinatorV4 } from '@platformatic/kafka'
import { TOPICS } from '../../src/log/event-log.ts'
import { decodeAssignment, partitionsOf } from '../../src/log/kafka/group/consumer-protocol.ts'
import { workerGroup } from '../../src/worker/group-worker.ts'

export interface GroupMemberView {
  clientId: string
  /** Partitions of `topic` the member's last assignment gives it (empty while a rebalance is under way). */
  partitions: number[]
}

/**
 * A consumer group's members as the coordinator describes them (what kafka-consumer-groups
 * --describe --members --verbose shows), the assignments decoded with Kafka's consumer-protocol
 * layout. (Admin.describeGroups of @platformatic/kafka throws from a callback on a member whose
 * assignment is still empty, mid-rebalance, so the request is made here.)
 */
export async function describeGroup(broker: string, groupId: string, topic: string): Promise<GroupMemberView[]> {
  const [host, port] = broker.split(':')
  const pool = new ConnectionPool('tagstream-test-describe', { connectTimeout: 5_000, requestTimeout: 10_000 })
  try {
    const any = await pool.get({ host: host!, port: Number(port) })
    const found = (await findCoordinatorV4.api.async(any, 0, [groupId])).coordinators[0]
    if (!found || found.nodeId < 0) return []
    const c = await pool.get({ host: found.host, port: found.port })
    const group = (await describeGroupsV5.api.async(c, [groupId], false)).groups[0]
    return (group?.members ?? []).map((m) => ({ clientId: m.clientId, partitions: partitionsOf(decodeAssignment(m.memberAssignment).assignedPartitions, topic) }))
  } finally {
    await pool.close()
  }
}

/**
 * Which `tagstream worker` holds which partition of the events topic under the log prefix `prefix`:
 * the engine workers' group as its coordinator describes it, one row per assigned partition, each
 * member known by its client id, `<clientId>-worker-<id>` (src/log/kafka/event-log.ts joinGroup).
 */
export async function workerHolders(broker: string, prefix: string): Promise<Array<{ partition: number; owner: string }>> {
  const rows: Array<{ partition: number; owner: string }> = []
  for (const m of await describeGroup(broker, `${prefix}${workerGroup('engine')}`, `${prefix}${TOPICS.events}`)) {
    const owner = m.clientId.slice(m.clientId.indexOf('-worker-') + '-worker-'.length)
    for (const partition of m.partitions) rows.push({ partition, owner })
  }
  return rows.sort((a, b) => a.partition - b.partition)
}
