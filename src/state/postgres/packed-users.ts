import type { UserRecord } from '../state-store.ts'

/**
 * A slice of a checkpoint's users as statement parameters: every key and state concatenated into
 * one bytea (sent in binary), with 1-based offsets and lengths for SQL's substring(). Encoding
 * 10,000 states as a bytea[] literal instead costs tens of milliseconds of hex in this process and
 * twice the bytes on the wire.
 */
export interface PackedUsers {
  bytes: Buffer
  /** Written users: key and state positions in `bytes`. */
  keyAt: number[]
  keyLength: number[]
  stateAt: number[]
  stateLength: number[]
  /** Deleted users: key positions in `bytes`. */
  deletedAt: number[]
  deletedLength: number[]
}

export interface PackLimits {
  /** Users per statement. */
  maxUsers: number
  /** Bytes of keys and states per statement; a bytea parameter cannot exceed 1 GiB. */
  maxBytes: number
}

/** The last state of each key: a key repeated in one call keeps its last state, as in the embedded store. */
function lastStates(users: readonly UserRecord[]): Map<string, Uint8Array | null> {
  const last = new Map<string, Uint8Array | null>()
  for (const u of users) last.set(u.key, u.state)
  return last
}

/** Splits the users into packed slices within `limits`; always at least one (possibly empty) slice. */
export function packUsers(users: readonly UserRecord[], limits: PackLimits): PackedUsers[] {
  const slices: PackedUsers[] = []
  let parts: Buffer[] = []
  let slice = emptySlice()
  let pos = 1
  let count = 0
  const flush = () => {
    slice.bytes = Buffer.concat(parts, pos - 1)
    slices.push(slice)
    parts = []
    slice = emptySlice()
    pos = 1
    count = 0
  }
  for (const [key, state] of lastStates(users)) {
    const k = Buffer.from(key)
    const s = state === null ? null : Buffer.from(state.buffer, state.byteOffset, state.byteLength)
    const size = k.length + (s?.length ?? 0)
    if (count > 0 && (count >= limits.maxUsers || pos - 1 + size > limits.maxBytes)) flush()
    parts.push(k)
    if (s === null) {
      slice.deletedAt.push(pos)
      slice.deletedLength.push(k.length)
    } else {
      slice.keyAt.push(pos)
      slice.keyLength.push(k.length)
      slice.stateAt.push(pos + k.length)
      slice.stateLength.push(s.length)
      parts.push(s)
    }
    pos += size
    count++
  }
  flush()
  return slices
}

function emptySlice(): PackedUsers {
  return { bytes: Buffer.alloc(0), keyAt: [], keyLength: [], stateAt: [], stateLength: [], deletedAt: [], deletedLength: [] }
}
