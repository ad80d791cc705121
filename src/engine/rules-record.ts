import { pack, unpack } from '../events/msgpack.ts'
import { CODEC } from '../events/codec.ts'
import { validTenant } from '../events/json-record.ts'

/*
 * A rules record in a partition of the `events` log: `u8 4 | f64 version | msgpack {t, x}`, the
 * tenant and the YAML text of its own rule set at that version (docs/tenancy.md). A change is
 * appended to every partition, and each partition switches the tenant's rules when it reads the
 * record: the same point of its stream in `serve`, in `tagstream worker` and in a restore, so a
 * replay gives the same segment changes. The text is in the record so that applying it needs no
 * read from elsewhere; a checkpoint names only versions, whose texts the state store keeps.
 */

export interface RulesRecord {
  tenant: string
  version: number
  text: string
}

const HEADER = 9
/** A record larger than a rule set may be (MAX_RULES_BYTES) plus room for the tenant. */
const MAX_RECORD = 300 * 1024

export function encodeRulesRecord(r: RulesRecord): Buffer {
  const body = pack({ t: r.tenant, x: r.text })
  const b = Buffer.allocUnsafe(HEADER + body.length)
  b[0] = CODEC.RULES
  b.writeDoubleLE(r.version, 1)
  body.copy(b, HEADER)
  return b
}

/**
 * Decodes b[start, end), a record whose first byte is CODEC.RULES, or says why it is not one (the
 * engine dead-letters it: on Kafka, anyone with write access to the topic may write anything).
 */
export function decodeRulesRecord(b: Buffer, start: number, end: number): RulesRecord | { field: string; reason: string } {
  if (end - start < HEADER + 1) return { field: '(record)', reason: `a rules record is at least ${HEADER + 1} bytes, this one ${end - start}` }
  if (end - start > MAX_RECORD) return { field: '(record)', reason: `a rules record is at most ${MAX_RECORD} bytes, this one ${end - start}` }
  const version = b.readDoubleLE(start + 1)
  if (!Number.isSafeInteger(version) || version < 1) return { field: 'version', reason: 'must be a positive integer' }
  let body: unknown
  try {
    body = unpack(b.subarray(start + HEADER, end))
  } catch (err) {
    return { field: '(record)', reason: `rules record body cannot be decoded: ${err instanceof Error ? err.message : String(err)}` }
  }
  if (typeof body !== 'object' || body === null) return { field: '(record)', reason: 'rules record body is not a map' }
  const { t, x } = body as { t?: unknown; x?: unknown }
  if (typeof t !== 'string' || !validTenant(t)) return { field: 'tenant', reason: 'must be 1 to 128 characters, no colon or control characters' }
  if (typeof x !== 'string') return { field: 'text', reason: 'must be a string' }
  return { tenant: t, version, text: x }
}
