import { createReadStream, statSync } from 'node:fs'
import { createGunzip } from 'node:zlib'

export interface LineSource {
  /** Whole lines as bytes, in chunks of about 1 MiB: one await per chunk, not per line. */
  chunks: AsyncIterable<Buffer>
  size: number
  bytesRead: () => number
}

const CHUNK = 1 << 20
/** No event is near this long (an event is at most 1 MB): a longer line is a broken file, and holding it would be unbounded memory. */
export const MAX_LINE_BYTES = 64 << 20

/**
 * The lines of an NDJSON file, gunzipped when it ends in .gz, as bytes: each chunk ends at the end
 * of a line (or of the file), so no character is split between two chunks and the byte-level line
 * reader (src/ingest/fast-path-lines.ts) never decodes text it does not need. Memory is a chunk and
 * the part line carried to the next, whatever the size of the file.
 */
export function readLineChunks(path: string): LineSource {
  let size: number
  try {
    size = statSync(path).size
  } catch {
    throw new Error(`cannot read ${path}: no such file`)
  }
  const file = createReadStream(path, { highWaterMark: CHUNK })
  const input = path.endsWith('.gz') ? file.pipe(createGunzip({ chunkSize: CHUNK })) : file
  file.on('error', (err) => input.destroy(err))
  async function* chunks(): AsyncGenerator<Buffer> {
    // The part line carried over, in pieces (one concat when it ends, not one per chunk).
    const rest: Buffer[] = []
    let restBytes = 0
    // Bytes (after gunzip) handed on so far: where a line too long starts.
    let offset = 0
    for await (const chunk of input as AsyncIterable<Buffer>) {
      const last = chunk.lastIndexOf(0x0a)
      if (last < 0) {
        rest.push(chunk)
        restBytes += chunk.length
        if (restBytes > MAX_LINE_BYTES) throw new Error(`the line at byte ${offset} is longer than ${MAX_LINE_BYTES >> 20} MiB: not NDJSON events`)
        continue
      }
      const head = chunk.subarray(0, last + 1)
      const lines = rest.length === 0 ? head : Buffer.concat([...rest, head])
      offset += lines.length
      yield lines
      rest.length = 0
      restBytes = 0
      if (last + 1 < chunk.length) {
        rest.push(chunk.subarray(last + 1))
        restBytes = chunk.length - last - 1
      }
    }
    if (restBytes > 0) yield Buffer.concat(rest)
  }
  return { chunks: chunks(), size, bytesRead: () => file.bytesRead }
}
