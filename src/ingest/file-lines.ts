import type { IngestBatch } from './batch.ts'
import type { FastPathOptions } from './fast-path-encoder.ts'
import { LineEncoder } from './fast-path-lines.ts'

/**
 * One chunk of an NDJSON file read into an IngestBatch (`tagstream ingest`): the byte-level line
 * reader for the lines it reads, and for the others exactly what the file loader did to every line
 * before it (JSON.parse, then the collector's sorter: validation, encoding, dead letters). Line
 * indexes are 0-based positions in the file, as rejections and dead letters number them.
 */
export class FileLines extends LineEncoder {
  static read(chunk: Buffer, firstIndex: number, options: FastPathOptions): { batch: IngestBatch; lines: number } {
    const reader = new FileLines(chunk, options)
    const lines = reader.readLines(firstIndex)
    return { batch: reader.out, lines }
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
    if (r.ok) sorter.add(r.event)
    else sorter.reject(index, r.error, Buffer.from(text))
  }
}
