import { pack, unpack } from '../events/msgpack.ts'
import { CODEC } from '../events/codec.ts'
import { MAX_ID_LENGTH } from '../events/envelope.ts'
import { validTenant } from '../events/json-record.ts'

/*
 * Identity records: how two partitions' engines link two ids of one person (docs/identity.md).
 * They travel in the `events` log, appended by one partition's engine to another's, so the log's
 * exactly-once machinery carries them: the sender regenerates the same records with the same
 * sequence numbers after a restore, and the receiver drops what it has seen by a high-water mark
 * per sender.
 *
 *   u8 3 | u8 kind | u16 source partition | f64 seq | msgpack { t: tenant, i: id, p: person, … }
 */

/** A person's partition asks the absorbed id's partition for that id. */
export interface Claim {
  kind: 'claim'
  tenant: string
  /** The id to absorb. */
  id: string
  /** The user id it joins. */
  person: string
}

/** The id's partition gives it up: its state (null when it had none), and the id now redirects. */
export interface Grant {
  kind: 'grant'
  tenant: string
  id: string
  person: string
  state: Uint8Array | null
}

/** The id's partition keeps it: a user id, or already another person's. */
export interface Refusal {
  kind: 'refuse'
  tenant: string
  id: string
  person: string
  reason: string
}

/** An event of an absorbed id, handed to its person's partition (`event`: the binary envelope, re-keyed). */
export interface Forward {
  kind: 'forward'
  tenant: string
  id: string
  person: string
  event: Uint8Array
}

export type IdentityMessage = Claim | Grant | Refusal | Forward

export interface IdentityRecord {
  /** The sending partition. */
  source: number
  /** 1, 2, 3 … per (sender, receiver): the receiver applies a record once, above its mark for the sender. */
  seq: number
  message: IdentityMessage
}

const KINDS = ['claim', 'grant', 'refuse', 'forward'] as const
const HEADER = 12
const MAX_REASON = 256

interface Body {
  t: string
  i: string
  p: string
  s?: Uint8Array | null
  r?: string
  e?: Uint8Array
}

export function encodeIdentityRecord(r: IdentityRecord): Buffer {
  const m = r.message
  const body: Body = { t: m.tenant, i: m.id, p: m.person }
  if (m.kind === 'grant') body.s = m.state
  else if (m.kind === 'refuse') body.r = m.reason
  else if (m.kind === 'forward') body.e = m.event
  const packed = pack(body)
  const b = Buffer.allocUnsafe(HEADER + packed.length)
  b[0] = CODEC.IDENTITY
  b[1] = KINDS.indexOf(m.kind)
  b.writeUInt16LE(r.source, 2)
  b.writeDoubleLE(r.seq, 4)
  packed.copy(b, HEADER)
  return b
}

/**
 * Decodes b[start, end), a record whose first byte is CODEC.IDENTITY, or says why it is not one
 * (the engine dead-letters it: a producer with write access to the topic may write anything).
 */
export function decodeIdentityRecord(b: Buffer, start: number, end: number, partitions: number): IdentityRecord | { field: string; reason: string } {
  if (end - start < HEADER + 1) return { field: '(record)', reason: `an identity record is at least ${HEADER + 1} bytes, this one ${end - start}` }
  const kind = KINDS[b[start + 1]!]
  if (kind === undefined) return { field: '(record)', reason: `unknown identity record kind ${b[start + 1]}` }
  const source = b.readUInt16LE(start + 2)
  if (source >= partitions) return { field: '(record)', reason: `identity record from partition ${source}, of ${partitions}` }
  const seq = b.readDoubleLE(start + 4)
  if (!Number.isSafeInteger(seq) || seq < 1) return { field: '(record)', reason: 'identity record sequence is not a positive integer' }
  let body: Body
  try {
    body = unpack(b.subarray(start + HEADER, end)) as Body
  } catch (err) {
    return { field: '(record)', reason: `identity record body cannot be decoded: ${err instanceof Error ? err.message : String(err)}` }
  }
  if (typeof body !== 'object' || body === null) return { field: '(record)', reason: 'identity record body is not a map' }
  if (typeof body.t !== 'string' || !validTenant(body.t)) return { field: 'tenant', reason: 'must be 1 to 128 characters, no colon or control characters' }
  if (!isId(body.i)) return { field: 'id', reason: `must be 1 to ${MAX_ID_LENGTH} characters` }
  if (!isId(body.p)) return { field: 'person', reason: `must be 1 to ${MAX_ID_LENGTH} characters` }
  const base = { tenant: body.t, id: body.i, person: body.p }
  let message: IdentityMessage
  if (kind === 'claim') message = { kind, ...base }
  else if (kind === 'grant') {
    if (body.s !== null && !(body.s instanceof Uint8Array)) return { field: 'state', reason: 'must be bytes or null' }
    message = { kind, ...base, state: body.s }
  } else if (kind === 'refuse') {
    if (typeof body.r !== 'string') return { field: 'reason', reason: 'must be a string' }
    message = { kind, ...base, reason: body.r.slice(0, MAX_REASON) }
  } else {
    if (!(body.e instanceof Uint8Array) || body.e[0] !== CODEC.VERSION) return { field: 'event', reason: 'must be a binary event' }
    message = { kind, ...base, event: body.e }
  }
  return { source, seq, message }
}

function isId(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0 && v.length <= MAX_ID_LENGTH
}
