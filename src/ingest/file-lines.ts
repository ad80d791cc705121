import { TOPICS, type EventLog } from '../log/event-log.ts'
import { appendFramed, FRAME_RECORD_HEADER, FramedRecords } from '../log/framed.ts'
import { toPositive, type EventsFormat } from '../events/index.ts'
import { appendDeadLetters } from './dead-letters.ts'
import type { IngestBatch, RejectedEvent } from './batch.ts'
import type { DeadLetter } from './dead-letters.ts'
import { encodedSize, keyBytesLength, keyHash, writeEncoded, writeKey } from './fast-path-event.ts'
import type { FastPathOptions } from './fast-path-encoder.ts'
import { LineEncoder } from './fast-path-lines.ts'
import { REQUEST_ID_LENGTH, RequestIds } from './ids.ts'

/** One chunk of a file read: its events framed per partition, its rejections and dead letters, and how many lines it held. */
export interface FileChunk {
  /** Index = partition. */
  frames: FramedRecords[]
  accepted: number
  rejected: RejectedEvent[]
  letters: DeadLetter[]
  lines: number
  /** An event that could not be encoded: the chunk fails, as a request with one does. */
  unencodable: string | null
}

/** A chunk for a reader thread (./file-lines-thread.ts): its bytes, shared, and what a sorter needs. */
export interface FileChunkJob {
  seq: number
  /** The chunk is bytes [offset, offset + length) of this buffer. */
  chunk: SharedArrayBuffer
  offset: number
  length: number
  firstIndex: number
  tenant: string
  receivedAt: number
  partitions: number
  source: string
  eventsFormat: EventsFormat
}

/** A reader thread's answer: a FileChunk with each frame's buffer moved across. */
export type FileChunkDone = Omit<FileChunk, 'frames'> & { seq: number; frames: Array<{ buffer: ArrayBuffer; used: number; count: number }> }

/**
 * One chunk of an NDJSON file read for `tagstream ingest`: the byte-level line reader for the lines it
 * reads, and for the others exactly what the file loader did to every line before it (JSON.parse,
 * then the collector's sorter: validation, encoding, dead letters). Line indexes are 0-based
 * positions in the file, as rejections and dead letters number them. Events go straight into one
 * frame per partition (../log/framed.ts), in line order: no object, key string or view per event.
 */
export class FileLines extends LineEncoder {
  readonly frames: FramedRecords[]

  constructor(chunk: Buffer, options: FastPathOptions) {
    super(chunk, options)
    // About one encoded event per 80 bytes of line, spread over the partitions.
    this.frames = Array.from({ length: options.partitions }, () => new FramedRecords(Math.ceil((chunk.length * 1.2) / options.partitions) + 4096))
  }

  static read(chunk: Buffer, firstIndex: number, options: FastPathOptions): { frames: FramedRecords[]; batch: IngestBatch; lines: number } {
    const reader = new FileLines(chunk, options)
    const lines = reader.readLines(firstIndex)
    return { frames: reader.frames, batch: reader.out, lines }
  }

  /** The options a file's chunk is read with: its tenant and receive time (ids made from it), no event count limit, no de-duplication. */
  static options(tenant: string, receivedAt: number, partitions: number, source: string, eventsFormat?: EventsFormat): FastPathOptions {
    return { tenant, receivedAt, partitions, maxEvents: Number.POSITIVE_INFINITY, deduper: null, ids: new RequestIds(receivedAt), source, eventsFormat }
  }

  /** A chunk read, here or by a reader thread (./file-lines-thread.ts). */
  static chunk(chunk: Buffer, firstIndex: number, options: FastPathOptions): FileChunk {
    const { frames, batch, lines } = FileLines.read(chunk, firstIndex, options)
    return { frames, accepted: batch.accepted, rejected: batch.rejected, letters: batch.letters, lines, unencodable: batch.unencodable?.message ?? null }
  }

  /** An element the byte-level reader took: its record written into its partition's frame. */
  protected override commit(): void {
    const b = this.b
    const frame = this.frames[toPositive(keyHash(b, this)) % this.frames.length]!
    const keyLength = keyBytesLength()
    const at = frame.reserve(FRAME_RECORD_HEADER + keyLength + encodedSize(this, REQUEST_ID_LENGTH))
    const view = frame.view
    view.setFloat64(at, this.ts, true)
    view.setInt32(at + 8, keyLength, true)
    const value = at + FRAME_RECORD_HEADER + writeKey(frame.bytes, at + FRAME_RECORD_HEADER)
    const end = writeEncoded(frame.bytes, view, value, b, this, this.o.receivedAt, this.o.ids, null, 0)
    view.setUint32(at + 12, end - value, true)
    frame.used = end
    frame.count++
    this.out.accepted++
  }

  protected slowLine(index: number, start: number, end: number): void {
    const text = this.b.toString('utf8', start, end)
    if (text.trim() === '') return
    const sorter = this.sorter
    let item: unknown
    try {
      item = JSON.parse(text)
    } catch (err) {
      sorter.reject(index, { field: '(line)', reason: `invalid JSON: ${(err as Error).message}` }, Buffer.from(text))
      return
    }
    const r = sorter.check(item)
    if (r === null) return
    if (!r.ok) {
      sorter.reject(index, r.error, Buffer.from(text))
      return
    }
    // The sorter encodes it into its partition's group: moved into the frame, in its place.
    if (!sorter.add(r.event)) return
    const groups = this.out.groups
    for (let p = 0; p < groups.length; p++) {
      const group = groups[p]!
      for (const record of group) this.frames[p]!.add(record, this.o.receivedAt)
      group.length = 0
    }
  }
}

/**
 * Appends a chunk: each partition's frame and the dead letters; resolves once all are durable. An
 * event that could not be encoded fails the chunk, as it fails a request.
 */
export async function appendChunk(log: EventLog, partitions: number, chunk: FileChunk): Promise<void> {
  if (chunk.unencodable !== null) throw new Error(`an event could not be encoded: ${chunk.unencodable}`)
  const appends: Array<Promise<unknown>> = []
  chunk.frames.forEach((frame, p) => {
    if (frame.count > 0) appends.push(appendFramed(log, TOPICS.events, p, frame))
  })
  if (chunk.letters.length > 0) appends.push(appendDeadLetters(log, chunk.letters, partitions))
  await Promise.all(appends)
}
