import { createReadStream, statSync } from 'node:fs'
import { open, type FileHandle } from 'node:fs/promises'
import { createGunzip } from 'node:zlib'

export interface LineSource {
  /**
   * Whole lines as bytes, in chunks of about 1 MiB: one await per chunk, not per line. Each chunk
   * lies in memory of its own, a SharedArrayBuffer, so it goes to a reader thread without a copy.
   */
  chunks: AsyncIterable<Buffer>
  size: number
  bytesRead: () => number
}

const CHUNK = 1 << 20
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
  async function* chunks(): AsyncGenerator<Buffer> {
    let buf = shared(CHUNK)
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
        const next = shared(rest + CHUNK)
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
  return { chunks: chunks(), size, bytesRead: source.bytesRead }
}

function shared(size: number): Buffer {
  return Buffer.from(new SharedArrayBuffer(size))
}

function grown(buf: Buffer, filled: number, size: number): Buffer {
  const bigger = shared(size)
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
