import { createReadStream, statSync } from 'node:fs'
import { open, type FileHandle } from 'node:fs/promises'
import { createGunzip } from 'node:zlib'
import { sharedBuffer } from '../ordered-pool.ts'

export interface LineSource {
  /**
   * Whole lines as bytes, in chunks of about 1 MiB: one await per chunk, not per line. Each chunk
   * lies in memory of its own, a SharedArrayBuffer, so it goes to a reader thread without a copy.
   */
  chunks: AsyncIterable<Buffer>
  size: number
  bytesRead: () => number
  /**
   * Gives a chunk's memory back once nothing reads it any more (read here or by a reader thread):
   * a later chunk is read into it, instead of into new memory the kernel must map and zero.
   */
  recycle: (chunk: Buffer) => void
}

const CHUNK = 1 << 20
/** Memory of a chunk that can be recycled: a chunk's worth and room for the part line before it. */
const POOLED = CHUNK + (64 << 10)
/** Chunks' memory kept for reuse at most (the chunks a replay or an ingest has in flight). */
const MAX_FREE = 8
/** No event is near this long (an event is at most 1 MB): a longer line is a broken file, and holding it would be unbounded memory. */
export const MAX_LINE_BYTES = 64 << 20

/** Something bytes are read from into a buffer: the bytes read (0 at the end). */
type ReadInto = (into: Buffer, at: number) => Promise<number>

/**
 * The lines of an NDJSON file, gunzipped when it ends in .gz, as bytes: each chunk ends at the end
 * of a line (or of the file), so no character is split between two chunks and the byte-level line
 * reader (src/ingest/fast-path-lines.ts) never decodes text it does not need. The file is read
 * straight into each chunk's memory, after the part line the last chunk left (the only bytes
 * copied). Memory is a chunk and that part line, whatever the size of the file.
 */
export function readLineChunks(path: string): LineSource {
  let size: number
  try {
    size = statSync(path).size
  } catch {
    throw new Error(`cannot read ${path}: no such file`)
  }
  const source = path.endsWith('.gz') ? gunzipped(path) : plain(path)
  const free: SharedArrayBuffer[] = []
  // Memory for a chunk whose part line from the last one is `rest` bytes (it reads CHUNK more or so).
  const fresh = (rest: number): Buffer => {
    if (rest + CHUNK > POOLED) return sharedBuffer(rest + CHUNK)
    const reused = free.pop()
    return reused === undefined ? sharedBuffer(POOLED) : Buffer.from(reused)
  }
  async function* chunks(): AsyncGenerator<Buffer> {
    let buf = fresh(0)
    // Bytes in buf: the part line carried over (no line break), then what the last read added.
    let filled = 0
    // Bytes handed on so far: where a line too long starts.
    let offset = 0
    try {
      for (;;) {
        // No line break in the whole buffer: one long line, read on in a bigger one.
        if (filled === buf.length) buf = grown(buf, filled, 2 * buf.length)
        const from = filled
        const n = await source.read(buf, filled)
        if (n === 0) break
        filled += n
        const last = buf.lastIndexOf(0x0a, filled - 1)
        // The bytes before `from` hold no line break: none among the new ones means none at all.
        if (last < from) {
          if (filled > MAX_LINE_BYTES) throw new Error(`the line at byte ${offset} is longer than ${MAX_LINE_BYTES >> 20} MiB: not NDJSON events`)
          continue
        }
        const rest = filled - last - 1
        const next = fresh(rest)
        buf.copy(next, 0, last + 1, filled)
        offset += last + 1
        yield buf.subarray(0, last + 1)
        buf = next
        filled = rest
      }
      if (filled > 0) yield buf.subarray(0, filled)
    } finally {
      await source.close()
    }
  }
  const recycle = (chunk: Buffer) => {
    const memory = chunk.buffer
    if (memory instanceof SharedArrayBuffer && memory.byteLength === POOLED && free.length < MAX_FREE) free.push(memory)
  }
  return { chunks: chunks(), size, bytesRead: source.bytesRead, recycle }
}

function grown(buf: Buffer, filled: number, size: number): Buffer {
  const bigger = sharedBuffer(size)
  buf.copy(bigger, 0, 0, filled)
  return bigger
}

interface ByteSource {
  read: ReadInto
  close: () => Promise<void>
  /** Bytes of the file read so far (compressed bytes for a .gz): the progress bar's measure. */
  bytesRead: () => number
}

/** A plain file, read in order into the caller's buffers. */
function plain(path: string): ByteSource {
  // Opened when reading starts (a source made and never read holds no descriptor); a failure to
  // open is the first read's.
  let handle: Promise<FileHandle> | null = null
  let total = 0
  return {
    async read(into, at) {
      handle ??= open(path, 'r')
      const { bytesRead } = await (await handle).read(into, at, into.length - at, null)
      total += bytesRead
      return bytesRead
    },
    async close() {
      await (await handle?.catch(() => null))?.close()
    },
    bytesRead: () => total,
  }
}

/** A gzipped file: its uncompressed bytes, copied from gunzip's output into the caller's buffers. */
function gunzipped(path: string): ByteSource {
  const file = createReadStream(path, { highWaterMark: CHUNK })
  const input = file.pipe(createGunzip({ chunkSize: CHUNK }))
  file.on('error', (err) => input.destroy(err))
  const pieces = (input as AsyncIterable<Buffer>)[Symbol.asyncIterator]()
  let piece: Buffer | null = null
  let used = 0
  return {
    async read(into, at) {
      while (piece === null || used === piece.length) {
        const next = await pieces.next()
        if (next.done === true) return 0
        piece = next.value
        used = 0
      }
      const n = piece.copy(into, at, used, Math.min(piece.length, used + into.length - at))
      used += n
      return n
    },
    async close() {
      input.destroy()
      file.destroy()
    },
    bytesRead: () => file.bytesRead,
  }
}
