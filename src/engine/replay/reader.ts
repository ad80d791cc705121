import { encodeEvent, partitionFor, type TrackedEvent } from '../../events/index.ts'
import { encodedSize, keyHash, writeEncoded } from '../../ingest/fast-path-event.ts'
import { LineEncoder } from '../../ingest/fast-path-lines.ts'
import { RequestIds } from '../../ingest/ids.ts'
import { toPositive } from '../../events/murmur2.ts'
import { BatchWriter, ENTRY_BINARY, ENTRY_HEADER, ENTRY_JSON } from './batch.ts'
import { REPLAY_RECEIVED_AT, type ReplayInput } from './input.ts'

/** "line-" and the digits of a line number: the id of an event that has none (ReplayInput's). */
const madeId = Buffer.alloc(32)
madeId.write('line-', 'latin1')

/**
 * One chunk of a replay's input read into engine entries: the collector's byte-level line reader
 * (tenant default, no server clock, `ts` required, ids from line numbers) for the lines it reads,
 * and for the others JSON.parse and ReplayInput, as every line was read before; the events go
 * into `out` with their partitions, in line order.
 */
export class ReplayReader extends LineEncoder {
  private constructor(
    chunk: Buffer,
    private readonly input: ReplayInput,
    private readonly batch: BatchWriter,
    private readonly partitions: number,
  ) {
    // No request ids or dedupe claims here: ids come from line numbers, repeats are dropped later.
    super(chunk, {
      tenant: 'default',
      receivedAt: REPLAY_RECEIVED_AT,
      latestTs: Number.POSITIVE_INFINITY,
      requireTs: true,
      surrogatesSlow: true,
      partitions,
      maxEvents: Number.POSITIVE_INFINITY,
      deduper: null,
      ids: new RequestIds(0),
      // The replay's own batch, not the log: its readers (./repeats.ts, ../replay.ts) read the binary envelope.
      eventsFormat: 'binary',
    })
  }

  /** Reads the chunk's lines (numbered from `firstLine`, 1-based) into `batch`; returns how many lines it held. */
  static read(chunk: Buffer, firstLine: number, input: ReplayInput, batch: BatchWriter, partitions: number): number {
    return new ReplayReader(chunk, input, batch, partitions).readLines(firstLine)
  }

  /** An element the byte-level reader took; a repeated client id is dropped later, in file order (./repeats.ts). */
  protected override commit(): void {
    const { b, eventId } = this
    const partition = toPositive(keyHash(b, this)) % this.partitions
    const madeLength = eventId.present ? 0 : 5 + lineDigits(this.line)
    const batch = this.batch
    const start = batch.reserve(ENTRY_BINARY, partition, encodedSize(this, madeLength))
    if (eventId.present) batch.clientIds.push(start - ENTRY_HEADER)
    batch.close(start, writeEncoded(batch.bytes, batch.view, start, b, this, REPLAY_RECEIVED_AT, null, madeId, madeLength))
  }

  protected slowLine(line: number, start: number, end: number): void {
    const text = this.b.toString('utf8', start, end)
    if (text.length === 0 || (text.charCodeAt(0) <= 32 && text.trim() === '')) return
    let raw: unknown
    try {
      raw = JSON.parse(text)
    } catch (err) {
      this.input.reject(line, `invalid JSON: ${(err as Error).message}`)
      return
    }
    const event = this.input.parsed(raw, line)
    if (event !== null) addEvent(this.batch, event, this.partitions)
  }
}

// The digits of the last line number written into madeId, kept so that the next line's (nearly
// always the one after) is an increment, not a division per digit.
let madeLine = 0
let madeDigits = 1
madeId[5] = 0x30

/** Writes the decimal digits of a line number (a positive safe integer) at madeId[5]; returns how many. */
function lineDigits(n: number): number {
  if (n === madeLine + 1) {
    let i = 5 + madeDigits - 1
    while (i >= 5 && madeId[i] === 0x39) madeId[i--] = 0x30
    if (i >= 5) madeId[i]!++
    else {
      // 999 → 1000: a digit more.
      madeId[5] = 0x31
      madeId[5 + madeDigits++] = 0x30
    }
  } else if (n !== madeLine) {
    madeDigits = 1
    for (let x = n; x >= 10; x = Math.floor(x / 10)) madeDigits++
    for (let i = 5 + madeDigits - 1, x = n; i >= 5; i--, x = Math.floor(x / 10)) madeId[i] = 0x30 + (x % 10)
  }
  madeLine = n
  return madeDigits
}

/**
 * An event validated from its JSON: in the log's encoding, or as JSON when that encoding cannot hold
 * it exactly (a property name over 255 bytes; a lone surrogate, which UTF-8 would make U+FFFD: the
 * replay keeps the file's strings as JSON.parse read them).
 */
function addEvent(batch: BatchWriter, event: TrackedEvent, partitions: number): void {
  const partition = partitionFor(`${event.tenant}:${event.user_id}`, partitions)
  let bytes: Buffer | null = null
  // JSON.stringify writes a lone surrogate as an escape, and a paired one as itself.
  const json = JSON.stringify(event)
  if (!json.includes('\\ud') && !json.includes('\\uD')) {
    try {
      bytes = encodeEvent(event)
    } catch {
      bytes = null
    }
  }
  const kind = bytes === null ? ENTRY_JSON : ENTRY_BINARY
  bytes ??= Buffer.from(json)
  const start = batch.reserve(kind, partition, bytes.length)
  if (event.id_assigned !== true) batch.clientIds.push(start - ENTRY_HEADER)
  bytes.copy(batch.bytes, start)
  batch.close(start, start + bytes.length)
}
