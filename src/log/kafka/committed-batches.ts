import { ATTRIBUTES_AT, BATCH_HEADER, IS_CONTROL, IS_TRANSACTIONAL, LAST_DELTA_AT, PRODUCER_ID_AT } from './batch-layout.ts'
import type { AbortedTransaction } from './fetch-api.ts'
import type { ResponseBytes } from './response-bytes.ts'

/*
 * A read_committed fetch answers up to the last stable offset, so no open transaction's records are
 * in it, but records of aborted transactions are, with a list of those transactions (producer id and
 * first offset). What a reader may see is what Kafka's own consumer shows: a transactional batch of a
 * producer whose aborted transaction began at or before the batch is left out, until that producer's
 * abort marker; markers (control batches) are never records.
 */

/** The response without the batches of aborted transactions; the same bytes when none are listed. */
export function withoutAborted(bytes: ResponseBytes, aborted: readonly AbortedTransaction[]): ResponseBytes {
  if (aborted.length === 0) return bytes
  const pending = [...aborted].sort((a, b) => a.firstOffset - b.firstOffset)
  let next = 0
  const abortedNow = new Set<number>()
  const keep: Array<[number, number]> = []
  let pos = 0
  for (; pos + BATCH_HEADER <= bytes.length;) {
    const size = 12 + bytes.int32(pos + 8)
    if (pos + size > bytes.length) break
    const attributes = bytes.int16(pos + ATTRIBUTES_AT)
    const last = bytes.int64(pos) + bytes.int32(pos + LAST_DELTA_AT)
    while (next < pending.length && pending[next]!.firstOffset <= last) abortedNow.add(pending[next++]!.producerId)
    const producer = bytes.int64(pos + PRODUCER_ID_AT)
    let visible = true
    if ((attributes & IS_CONTROL) !== 0) {
      // The marker ends the producer's transaction: its later batches belong to a new one.
      if (isAbortMarker(bytes, pos, size)) abortedNow.delete(producer)
      visible = false
    } else if ((attributes & IS_TRANSACTIONAL) !== 0 && abortedNow.has(producer)) {
      visible = false
    }
    if (visible) {
      const prev = keep[keep.length - 1]
      if (prev !== undefined && prev[1] === pos) prev[1] = pos + size
      else keep.push([pos, pos + size])
    }
    pos += size
  }
  return bytes.pick(keep)
}

/**
 * A control batch holds one record whose key is (version int16, type int16): 0 aborts, 1 commits.
 * The record after the header: length, attributes (one byte), timestamp delta, offset delta, key
 * length (varints), then the key.
 */
function isAbortMarker(bytes: ResponseBytes, pos: number, size: number): boolean {
  const b = bytes.bytes(pos, size)
  let at = BATCH_HEADER
  const skipVarint = () => {
    while (at < b.length && (b[at]! & 0x80) !== 0) at++
    at++
  }
  skipVarint() // length
  at++ // attributes
  skipVarint() // timestamp delta
  skipVarint() // offset delta
  skipVarint() // key length (4)
  return at + 4 <= b.length && b.readInt16BE(at + 2) === 0
}

/** The offset after the last whole batch in the response (markers included), or null when it holds none. */
export function endOfBatches(bytes: ResponseBytes): number | null {
  let end: number | null = null
  for (let pos = 0; pos + BATCH_HEADER <= bytes.length;) {
    const size = 12 + bytes.int32(pos + 8)
    if (pos + size > bytes.length) break
    end = bytes.int64(pos) + bytes.int32(pos + LAST_DELTA_AT) + 1
    pos += size
  }
  return end
}

/** True when some batch in the response holds records (not only markers). */
export function holdsRecords(bytes: ResponseBytes): boolean {
  for (let pos = 0; pos + BATCH_HEADER <= bytes.length;) {
    const size = 12 + bytes.int32(pos + 8)
    if (pos + size > bytes.length) break
    if ((bytes.int16(pos + ATTRIBUTES_AT) & IS_CONTROL) === 0) return true
    pos += size
  }
  return false
}
