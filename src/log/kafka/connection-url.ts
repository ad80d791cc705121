/**
 * `kafka://host:port[,host:port…][?prefix=…&clientId=…&replication=…]`: the brokers to bootstrap from
 * and the few settings a deployment or a test needs to choose. Anything else is refused by name, so a
 * typo never silently falls back to a default.
 */
export interface KafkaConnection {
  brokers: string[]
  /** Prepended to every topic and consumer-group name: isolates tenants, environments and tests. */
  prefix: string
  clientId: string
  /** Replication factor of topics this log creates; -1 lets the broker's default.replication.factor decide. */
  replication: number
}

const OPTIONS = ['prefix', 'clientId', 'replication'] as const
// Kafka's legal topic characters; the prefix becomes part of every topic name.
const TOPIC_CHARS = /^[a-zA-Z0-9._-]*$/

export function isKafkaUrl(url: string): boolean {
  return url.startsWith('kafka://')
}

export function parseKafkaUrl(url: string): KafkaConnection {
  if (!isKafkaUrl(url)) throw new Error(`a Kafka log URL starts with kafka://, got "${url}"`)
  const rest = url.slice('kafka://'.length)
  const q = rest.indexOf('?')
  const hosts = (q === -1 ? rest : rest.slice(0, q)).replace(/\/+$/, '')
  const params = new URLSearchParams(q === -1 ? '' : rest.slice(q + 1))

  const brokers = hosts.split(',').map((h) => h.trim())
  if (brokers.length === 0 || brokers.some((b) => !/^[^\s:/]+:\d{1,5}$/.test(b) || Number(b.slice(b.lastIndexOf(':') + 1)) > 65_535)) {
    throw new Error(`kafka:// needs host:port[,host:port…] (e.g. kafka://127.0.0.1:9092), got "${hosts}"`)
  }
  for (const name of params.keys()) {
    if (!(OPTIONS as readonly string[]).includes(name)) throw new Error(`unknown kafka:// option "${name}" (known: ${OPTIONS.join(', ')})`)
  }

  const prefix = params.get('prefix') ?? ''
  if (!TOPIC_CHARS.test(prefix)) throw new Error(`kafka:// prefix may hold only letters, digits, ".", "_" and "-", got "${prefix}"`)
  const clientId = params.get('clientId') ?? 'tagstream'
  if (!/^\S+$/.test(clientId)) throw new Error(`kafka:// clientId must be non-empty without spaces, got "${clientId}"`)
  const replicationText = params.get('replication')
  const replication = replicationText === null ? -1 : Number(replicationText)
  if (!Number.isInteger(replication) || (replication < 1 && replication !== -1)) {
    throw new Error(`kafka:// replication must be a positive integer (or -1 for the broker default), got "${replicationText}"`)
  }
  return { brokers, prefix, clientId, replication }
}
