/*
 * The binary envelope's layout constants and the one fixed-width read its decoders share
 * (./codec.ts writes and reads events; ./event-view.ts decodes their properties when asked).
 */

/** The layout's constants, for readers that walk encoded events without decoding them (the warehouse sink). */
export const CODEC = {
  VERSION: 1,
  /** Offsets in an encoded event of the fixed header's fields (f64 ts, f64 received_at, u8 flags), and its size. */
  AT_TS: 1,
  AT_RECEIVED: 9,
  AT_FLAGS: 17,
  HEADER: 18,
  /** First byte of a clock record (clock-record.ts), not an event. */
  CLOCK: 2,
  /**
   * First byte of an identity record (src/engine/identity-record.ts): one partition's engine
   * asking or answering another about linking two ids, or handing it an event of an absorbed id.
   * Not an event either: every reader but the engine skips it.
   */
  IDENTITY: 3,
  /**
   * First byte of a rules record (src/engine/rules-record.ts): a tenant's own rule set changed, and
   * the partition applies it at this point of its log. Not an event: every reader but the engine skips it.
   */
  RULES: 4,
  /**
   * First byte of an erase record (src/events/erase-record.ts): one person of a tenant is erased at
   * this point of the partition (docs/privacy.md). Not an event: every reader but the engine skips it.
   */
  ERASE: 5,
  HAS_ANONYMOUS_ID: 1,
  /**
   * The server assigned event_id (the client sent none). A restarted collector rebuilds its dedupe
   * horizon from the log (src/ingest/dedupe-restore.ts) and skips these: no client can retry
   * an id it never had. Records written before this flag existed count as client ids (safe: a few
   * ids remembered that nobody will repeat).
   */
  SERVER_ID: 2,
  OPEN_BRACE: 0x7b,
  T_NULL: 0,
  T_FALSE: 1,
  T_TRUE: 2,
  T_NUMBER: 3,
  T_STRING: 4,
  T_JSON: 5,
} as const

// The last buffer read and a DataView of it: bulk readers decode thousands of events from one
// buffer in a row, and a view's getFloat64 costs a fraction of eight byte copies into a scratch array.
// (It keeps that one buffer alive until another is read.)
let viewed: Buffer | null = null
let view: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(8))

/** The little-endian double at b[at]; throws past the end of b. */
export function f64At(b: Buffer, at: number): number {
  if (at + 8 > b.length) throw new RangeError('encoded event overruns its record')
  if (b !== viewed) {
    viewed = b
    view = new DataView(b.buffer, b.byteOffset, b.byteLength)
  }
  return view.getFloat64(at, true)
}
