import { createReadStream, statSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { createGunzip } from 'node:zlib'

/** Lines of an NDJSON file, gunzipped when it ends in .gz; `bytesRead()` tracks the compressed input. */
export function readLines(path: string): { lines: AsyncIterable<string>; size: number; bytesRead: () => number } {
  let size: number
  try {
    size = statSync(path).size
  } catch {
    throw new Error(`cannot read ${path}: no such file`)
  }
  const file = createReadStream(path, { highWaterMark: 1 << 20 })
  const input = path.endsWith('.gz') ? file.pipe(createGunzip()) : file
  file.on('error', (err) => input.destroy(err))
  const lines = createInterface({ input, crlfDelay: Infinity })
  return { lines, size, bytesRead: () => file.bytesRead }
}
