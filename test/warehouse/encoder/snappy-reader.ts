/*
 * A strict Snappy decompressor written from the format description
 * (https://github.com/google/snappy/blob/main/format_description.txt), for checking the sink's
 * compressor: it rejects what a lenient reader might let through (a copy reaching before the start
 * or with offset 0, input left over, an output of another length than the preamble says) and
 * reports which element forms the compressed stream used.
 */

export interface SnappyElements {
  literals: number
  /** Literal lengths by tag form: 0 (in the tag), 1–4 (length bytes after the tag, tags 60–63). */
  literalForms: Set<number>
  /** Copies by form: 1 (11-bit offset), 2 (16-bit offset), 4 (32-bit offset). */
  copyForms: Set<number>
  copies: number
  maxOffset: number
  longestLiteral: number
}

export function snappyDecode(input: Uint8Array): { out: Uint8Array; elements: SnappyElements } {
  let pos = 0
  let length = 0
  for (let shift = 0; ; shift += 7) {
    if (shift > 28) throw new Error('preamble longer than 5 bytes')
    const c = input[pos++]
    if (c === undefined) throw new Error('no preamble')
    length += (c & 0x7f) * 2 ** shift
    if ((c & 0x80) === 0) break
  }
  const out = new Uint8Array(length)
  let op = 0
  const elements: SnappyElements = { literals: 0, literalForms: new Set(), copyForms: new Set(), copies: 0, maxOffset: 0, longestLiteral: 0 }
  const u8 = (): number => {
    const c = input[pos++]
    if (c === undefined) throw new Error('element cut short')
    return c
  }
  while (pos < input.length) {
    const tag = u8()
    const kind = tag & 3
    if (kind === 0) {
      let n = tag >> 2
      let form = 0
      if (n >= 60) {
        form = n - 59
        n = 0
        for (let i = 0; i < form; i++) n += u8() * 2 ** (8 * i)
      }
      n += 1
      if (pos + n > input.length) throw new Error(`literal of ${n} past the input`)
      if (op + n > length) throw new Error('literal past the stated length')
      out.set(input.subarray(pos, pos + n), op)
      pos += n
      op += n
      elements.literals++
      elements.literalForms.add(form)
      elements.longestLiteral = Math.max(elements.longestLiteral, n)
      continue
    }
    let n: number
    let offset: number
    if (kind === 1) {
      n = 4 + ((tag >> 2) & 7)
      offset = ((tag >> 5) << 8) | u8()
    } else if (kind === 2) {
      n = 1 + (tag >> 2)
      offset = u8() | (u8() << 8)
    } else {
      n = 1 + (tag >> 2)
      offset = (u8() | (u8() << 8) | (u8() << 16)) + u8() * 2 ** 24
    }
    if (offset === 0 || offset > op) throw new Error(`copy offset ${offset} at output ${op}`)
    if (op + n > length) throw new Error('copy past the stated length')
    // Byte by byte: a copy may overlap what it writes (offset < length repeats a pattern).
    for (let i = 0; i < n; i++, op++) out[op] = out[op - offset]!
    elements.copies++
    elements.copyForms.add(kind === 3 ? 4 : kind)
    elements.maxOffset = Math.max(elements.maxOffset, offset)
  }
  if (op !== length) throw new Error(`${op} bytes out, the preamble says ${length}`)
  return { out, elements }
}
