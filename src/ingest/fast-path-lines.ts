import { isUtf8 } from 'node:buffer'
import { BodyEncoder } from './fast-path.ts'
import { FALLBACK, type FastPathOptions } from './fast-path-encoder.ts'
import { skipWs } from './json-bytes.ts'

/*
 * The collector's byte-level reader over NDJSON (`tagstream replay`, `tagstream ingest`): each line
 * is one element read as the fast path reads an element of a request body, straight into the log's
 * binary encoding with no JSON.parse and no object per event. A line this path does not read (not
 * an object, not UTF-8, nested values, anything validation would refuse or word) goes to
 * `slowLine` whole, in its place, where the caller takes it exactly as it did before this path
 * existed, so results, rejections and their line numbers stay what they were.
 */

/** One chunk of whole lines. Subclasses say what an accepted element becomes (`commit`) and how a declined line is taken (`slowLine`). */
export abstract class LineEncoder extends BodyEncoder {
  /** Number of the line being read (as readLines numbers them). */
  protected line = 0

  constructor(chunk: Buffer, options: FastPathOptions) {
    super(chunk, options)
  }

  /**
   * Reads every line of the chunk, numbering them from `firstLine` (a last line without a newline
   * counts too); returns how many there were.
   */
  readLines(firstLine: number): number {
    const b = this.b
    const size = b.length
    // A tenant this path cannot write (over 255 bytes, not ASCII): every line the slow way.
    const fast = this.begin()
    // One check for the whole chunk: lines end at '\\n', never inside a character.
    const utf8 = isUtf8(b)
    let line = firstLine
    for (let s = 0; s < size; line++) {
      let e = b.indexOf(0x0a, s)
      if (e < 0) e = size
      const next = e + 1
      // A CRLF line's CR is not part of it (the line reader before this one dropped it too).
      const end = e > s && b[e - 1] === 0x0d ? e - 1 : e
      this.n = end
      const i = skipWs(b, s, end)
      let read = FALLBACK
      if (fast && b[i] === 0x7b && (utf8 || isUtf8(b.subarray(s, end)))) {
        read = this.element(i)
        if (read >= 0 && skipWs(b, read, end) !== end) read = FALLBACK
      }
      this.line = line
      if (read >= 0) this.commit()
      else this.slowLine(line, s, end)
      s = next
    }
    this.n = size
    return line - firstLine
  }

  /** A line this path does not read, b[start, end) without its line break, as the caller took every line before. */
  protected abstract slowLine(line: number, start: number, end: number): void
}
