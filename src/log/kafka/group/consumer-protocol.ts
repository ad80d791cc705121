/*
 * Kafka's standard consumer-protocol payloads, byte for byte as the Java client writes them
 * (clients/src/main/resources/common/message/ConsumerProtocolSubscription.json and
 * ConsumerProtocolAssignment.json): a non-flexible int16 version, arrays with int32 lengths, strings
 * with int16 lengths, nullable bytes with an int32 length (-1 = null). The group coordinator never reads
 * them, but admin tools do: with protocol type "consumer" and these formats, `kafka-consumer-groups
 * --describe --members --verbose` shows our members and their partitions like any Java consumer's.
 *
 * We write version 1 (topics, user data, owned partitions: what a cooperative assignor needs). We read
 * any version as Kafka does: version 0 has no owned partitions, and a newer version is read as far as
 * the fields we know (later versions only append fields), the rest ignored.
 */

export interface TopicPartitions {
  topic: string
  partitions: number[]
}

export interface Subscription {
  topics: string[]
  userData: Buffer | null
  ownedPartitions: TopicPartitions[]
}

export interface Assignment {
  assignedPartitions: TopicPartitions[]
  userData: Buffer | null
}

export const SUBSCRIPTION_VERSION = 1
export const ASSIGNMENT_VERSION = 1

/** Appends fields to a list of chunks, sized once at the end. */
class ByteWriter {
  private readonly chunks: Buffer[] = []

  int16(n: number): this {
    const b = Buffer.alloc(2)
    b.writeInt16BE(n)
    this.chunks.push(b)
    return this
  }

  int32(n: number): this {
    const b = Buffer.alloc(4)
    b.writeInt32BE(n)
    this.chunks.push(b)
    return this
  }

  string(s: string): this {
    const bytes = Buffer.from(s, 'utf8')
    if (bytes.length > 0x7fff) throw new RangeError(`string of ${bytes.length} bytes is too long for an int16 length`)
    this.int16(bytes.length)
    this.chunks.push(bytes)
    return this
  }

  nullableBytes(b: Buffer | null): this {
    if (b === null) return this.int32(-1)
    this.int32(b.length)
    this.chunks.push(b)
    return this
  }

  array<T>(items: readonly T[], each: (w: this, item: T) => void): this {
    this.int32(items.length)
    for (const item of items) each(this, item)
    return this
  }

  bytes(): Buffer {
    return Buffer.concat(this.chunks)
  }
}

/** Reads fields in order; a field that runs past the end is an error naming the payload. */
class ByteReader {
  private offset = 0

  constructor(
    private readonly buf: Buffer,
    private readonly what: string,
  ) {}

  private need(n: number): number {
    const at = this.offset
    if (at + n > this.buf.length) throw new RangeError(`${this.what}: truncated at byte ${at} (needs ${n} more, has ${this.buf.length - at})`)
    this.offset += n
    return at
  }

  int16(): number {
    return this.buf.readInt16BE(this.need(2))
  }

  int32(): number {
    return this.buf.readInt32BE(this.need(4))
  }

  string(): string {
    const length = this.int16()
    if (length < 0) throw new RangeError(`${this.what}: null string where a string is required`)
    const at = this.need(length)
    return this.buf.toString('utf8', at, at + length)
  }

  nullableBytes(): Buffer | null {
    const length = this.int32()
    if (length < 0) return null
    const at = this.need(length)
    // A copy: the caller may keep it after the response buffer is reused.
    return Buffer.from(this.buf.subarray(at, at + length))
  }

  array<T>(each: (r: this) => T): T[] {
    const length = this.int32()
    // -1 would be a null array, which these formats never allow; a huge count is a corrupt payload.
    if (length < 0 || length > this.buf.length) throw new RangeError(`${this.what}: bad array length ${length}`)
    const out: T[] = []
    for (let i = 0; i < length; i++) out.push(each(this))
    return out
  }
}

const writeTopicPartitions = (w: ByteWriter, tp: TopicPartitions): void => {
  w.string(tp.topic).array(tp.partitions, (w2, p) => w2.int32(p))
}

const readTopicPartitions = (r: ByteReader): TopicPartitions => ({ topic: r.string(), partitions: r.array((r2) => r2.int32()) })

function readVersion(r: ByteReader, what: string): number {
  const version = r.int16()
  if (version < 0) throw new RangeError(`${what}: unsupported version ${version}`)
  return version
}

export function encodeSubscription(s: Subscription): Buffer {
  return new ByteWriter()
    .int16(SUBSCRIPTION_VERSION)
    .array(s.topics, (w, t) => w.string(t))
    .nullableBytes(s.userData)
    .array(s.ownedPartitions, writeTopicPartitions)
    .bytes()
}

export function decodeSubscription(buf: Buffer): Subscription {
  const r = new ByteReader(buf, 'ConsumerProtocolSubscription')
  const version = readVersion(r, 'ConsumerProtocolSubscription')
  const topics = r.array((r2) => r2.string())
  const userData = r.nullableBytes()
  const ownedPartitions = version >= 1 ? r.array(readTopicPartitions) : []
  return { topics, userData, ownedPartitions }
}

export function encodeAssignment(a: Assignment): Buffer {
  return new ByteWriter().int16(ASSIGNMENT_VERSION).array(a.assignedPartitions, writeTopicPartitions).nullableBytes(a.userData).bytes()
}

/** An empty buffer is what the coordinator hands a member the leader gave nothing to: no partitions. */
export function decodeAssignment(buf: Buffer): Assignment {
  if (buf.length === 0) return { assignedPartitions: [], userData: null }
  const r = new ByteReader(buf, 'ConsumerProtocolAssignment')
  readVersion(r, 'ConsumerProtocolAssignment')
  return { assignedPartitions: r.array(readTopicPartitions), userData: r.nullableBytes() }
}

/** The partitions of `topic` in a list of topic-partitions (a topic may appear more than once). */
export function partitionsOf(list: readonly TopicPartitions[], topic: string): number[] {
  return list.filter((tp) => tp.topic === topic).flatMap((tp) => tp.partitions)
}

/** A member's subscription to one topic, naming the partitions it holds (what the cooperative leader reads). */
export function subscribe(topic: string, owned: number[]): Buffer {
  return encodeSubscription({ topics: [topic], userData: null, ownedPartitions: [{ topic, partitions: owned }] })
}

/** One topic's partitions for a member; none is an empty list, as the Java client writes it. */
export function assign(topic: string, partitions: number[]): Buffer {
  return encodeAssignment({ assignedPartitions: partitions.length > 0 ? [{ topic, partitions }] : [], userData: null })
}
