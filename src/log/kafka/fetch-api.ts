import { ResponseError, Writer, type Reader } from '@platformatic/kafka'
import { ResponseBytes } from './response-bytes.ts'

/*
 * Fetch v12 (topics by name, flexible encoding) for one partition, with a response parser that keeps
 * the records as raw bytes for records.ts to decode lazily. Partition and top-level errors are thrown
 * as the client's ResponseError, so callers match them by protocol id like any other broker error.
 * Every fetch reads committed records only (isolation level read_committed): the broker answers up to
 * the last stable offset and lists the aborted transactions in range, which fetcher.ts leaves out
 * (docs/kafka.md, "Transactions").
 */

export const FETCH_API_KEY = 1
export const FETCH_VERSION = 12

export interface FetchPartition {
  topic: string
  partition: number
  offset: number
  leaderEpoch: number
  maxBytes: number
}

/** A transaction aborted in the fetched range: its producer's transactional batches from `firstOffset` on up to its abort marker are not records. */
export interface AbortedTransaction {
  producerId: number
  firstOffset: number
}

export interface FetchedPartition {
  partition: number
  errorCode: number
  highWatermark: bigint
  logStartOffset: bigint
  aborted: AbortedTransaction[]
  /** Whole record batches (the last may be cut short by the size limit), in the socket's buffers. */
  records: ResponseBytes | null
}

export function fetchRequest(p: FetchPartition, maxWaitMs: number): Writer {
  return Writer.create()
    .appendInt32(-1) // replica id: a consumer
    .appendInt32(maxWaitMs)
    .appendInt32(1) // min bytes: answer as soon as one record is there
    .appendInt32(p.maxBytes)
    .appendInt8(1) // read committed
    .appendInt32(0) // no fetch session
    .appendInt32(-1)
    .appendUnsignedVarInt(2) // one topic
    .appendString(p.topic)
    .appendUnsignedVarInt(2) // one partition
    .appendInt32(p.partition)
    .appendInt32(p.leaderEpoch)
    .appendInt64(BigInt(p.offset))
    .appendInt32(-1) // last fetched epoch
    .appendInt64(-1n) // log start offset (followers only)
    .appendInt32(p.maxBytes)
    .appendTaggedFields()
    .appendTaggedFields()
    .appendUnsignedVarInt(1) // no forgotten topics
    .appendString('') // rack
    .appendTaggedFields()
}

export function parseFetchResponse(_correlationId: number, apiKey: number, apiVersion: number, reader: Reader): FetchedPartition[] {
  const errors: Record<string, [number, null]> = {}
  reader.readInt32() // throttle time
  const errorCode = reader.readInt16()
  if (errorCode !== 0) errors['/'] = [errorCode, null]
  reader.readInt32() // session id
  const partitions: FetchedPartition[] = []
  reader.readArray(
    (r) => {
      r.readString()
      r.readArray(
        (r) => {
          const p: FetchedPartition = {
            partition: r.readInt32(),
            errorCode: r.readInt16(),
            highWatermark: r.readInt64(),
            logStartOffset: (r.readInt64(), r.readInt64()), // last stable offset, then log start offset
            aborted: [],
            records: null,
          }
          r.readArray(
            (r) => {
              p.aborted.push({ producerId: Number(r.readInt64()), firstOffset: Number(r.readInt64()) })
              skipTaggedFields(r)
            },
            true,
            false,
          )
          r.readInt32() // preferred read replica
          const size = r.readUnsignedVarInt() - 1
          if (size > 0) {
            // Not joined into one Buffer (a copy into fresh memory): see response-bytes.ts.
            p.records = ResponseBytes.of(r.buffer.subarray(r.position, r.position + size).buffers)
            r.skip(size)
          }
          skipTaggedFields(r) // diverging epoch, current leader, snapshot id
          if (p.errorCode !== 0) errors[`/partitions/${p.partition}`] = [p.errorCode, null]
          partitions.push(p)
        },
        true,
        false,
      )
      skipTaggedFields(r)
    },
    true,
    false,
  )
  if (Object.keys(errors).length > 0) throw new ResponseError(apiKey, apiVersion, errors, partitions)
  return partitions
}

/** Tagged fields: a count, then (tag, size, bytes) each. */
function skipTaggedFields(r: Reader): void {
  for (let n = r.readUnsignedVarInt(); n > 0; n--) {
    r.readUnsignedVarInt()
    r.skip(r.readUnsignedVarInt())
  }
}
