import { createWriteStream } from 'node:fs'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { createGzip } from 'node:zlib'

/**
 * Streams chunks to `path`: gzipped when it ends in .gz, stdout for "-". Resolves with the bytes
 * written to the destination (compressed bytes for .gz). Back-pressure comes from the pipeline, so
 * a slow disk or a slow reader of stdout never makes the chunks pile up in memory.
 */
export async function writeChunks(path: string, chunks: Iterable<Uint8Array | string>): Promise<number> {
  if (path === '-') {
    let bytes = 0
    const counted = function* (): Generator<Uint8Array | string> {
      for (const chunk of chunks) {
        bytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length
        yield chunk
      }
    }
    try {
      // stdout must stay open: the caller may print a summary after the data.
      await pipeline(Readable.from(counted()), process.stdout, { end: false })
    } catch (err) {
      // The reader went away (`| head`): the output it wanted has been written.
      if ((err as NodeJS.ErrnoException).code !== 'EPIPE') throw err
    }
    return bytes
  }
  const file = createWriteStream(path)
  // Level 1: three times the speed of the default level for files about a quarter larger.
  if (path.endsWith('.gz')) await pipeline(Readable.from(chunks), createGzip({ level: 1 }), file)
  else await pipeline(Readable.from(chunks), file)
  return file.bytesWritten
}
