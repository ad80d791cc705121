import { pack, unpack } from './msgpack.ts'
import { CODEC } from './codec.ts'
import { MAX_ID_LENGTH } from './envelope.ts'
import { validTenant } from './json-record.ts'

/*
 * An erase record in a partition of the `events` log: `u8 5 | msgpack {t, i, j}`, a tenant, the
 * person's ids and the erasure job (docs/privacy.md). A job appends one to every partition; each
 * partition erases what it holds of those ids when it reads the record, so the erase happens at the
 * same point of its stream in `serve`, in `tagstream worker` and in a restore: events before the
 * record are the erased person's, events after it start a new profile (log order decides a race).
 * The record stays in the log until retention drops it, which is after every event it erased: it
 * is the tombstone a replay of the log honours.
 */

export interface EraseRecord {
  tenant: string
  /** The person's ids: the one asked for, then its linked ids. */
  ids: string[]
  /** The erasure job (ErasureJob.id): a partition applies a job's first record only. */
  job: string
}

/** A person has at most this many linked ids (the engine's identityMaxIds is far below). */
export const MAX_ERASE_IDS = 1_000
const MAX_JOB_ID = 64

export function encodeEraseRecord(r: EraseRecord): Buffer {
  const body = pack({ t: r.tenant, i: r.ids, j: r.job })
  const b = Buffer.allocUnsafe(1 + body.length)
  b[0] = CODEC.ERASE
  body.copy(b, 1)
  return b
}

/**
 * Decodes b[start, end), a record whose first byte is CODEC.ERASE, or says why it is not one (the
 * engine dead-letters it: on Kafka, anyone with write access to the topic may write anything).
 */
export function decodeEraseRecord(b: Buffer, start: number, end: number): EraseRecord | { field: string; reason: string } {
  if (end - start < 2) return { field: '(record)', reason: `an erase record is at least 2 bytes, this one ${end - start}` }
  let body: unknown
  try {
    body = unpack(b.subarray(start + 1, end))
  } catch (err) {
    return { field: '(record)', reason: `erase record body cannot be decoded: ${err instanceof Error ? err.message : String(err)}` }
  }
  if (typeof body !== 'object' || body === null) return { field: '(record)', reason: 'erase record body is not a map' }
  const { t, i, j } = body as { t?: unknown; i?: unknown; j?: unknown }
  if (typeof t !== 'string' || !validTenant(t)) return { field: 'tenant', reason: 'must be 1 to 128 characters, no colon or control characters' }
  if (typeof j !== 'string' || j.length === 0 || j.length > MAX_JOB_ID) return { field: 'job', reason: `must be a string of 1 to ${MAX_JOB_ID} characters` }
  if (!Array.isArray(i) || i.length === 0 || i.length > MAX_ERASE_IDS) return { field: 'ids', reason: `must be a list of 1 to ${MAX_ERASE_IDS} ids` }
  for (const id of i) {
    if (typeof id !== 'string' || id.length === 0 || id.length > MAX_ID_LENGTH) return { field: 'ids', reason: `every id must be a string of 1 to ${MAX_ID_LENGTH} characters` }
  }
  return { tenant: t, ids: i as string[], job: j }
}
