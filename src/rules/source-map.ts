import type { Scalar } from 'yaml'

/**
 * Maps offsets in a scalar's parsed value back to offsets in the YAML source, so an error in a
 * quoted, folded or block `when` still points at the right column of the file.
 *
 * The value's characters appear in the source in order; what the source adds is quoting,
 * indentation, line folding and escapes. Each value character is matched to the next source
 * character equal to it, and a double-quoted escape is matched as a unit. Only whitespace can be
 * matched a little early (folded line breaks); tokens never start on whitespace, so error
 * positions land exactly.
 */
export function scalarOffsetMap(source: string, node: Scalar, value: string): (offset: number) => number {
  const range = node.range ?? [0, source.length, source.length]
  const end = range[1]
  let p = range[0]
  if (node.type === 'BLOCK_LITERAL' || node.type === 'BLOCK_FOLDED') {
    // Skip the header line (`|-`, `>2`): its characters are not content.
    const nl = source.indexOf('\n', p)
    p = nl === -1 || nl >= end ? end : nl + 1
  } else if (node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE') {
    p++
  }
  const doubleQuoted = node.type === 'QUOTE_DOUBLE'
  const map = new Array<number>(value.length + 1)
  for (let i = 0; i < value.length; i++) {
    const ch = value[i]
    let q = p
    let found = -1
    let next = p
    while (q < end) {
      if (doubleQuoted && source[q] === '\\') {
        const e = source[q + 1]
        if (e === '\n' || e === '\r') {
          q += 2
          continue
        }
        found = q
        next = q + escapeLength(e)
        break
      }
      if (source[q] === ch) {
        found = q
        next = q + 1
        break
      }
      q++
    }
    if (found === -1) {
      map[i] = p
    } else {
      map[i] = found
      p = next
    }
  }
  map[value.length] = value.length === 0 ? p : (map[value.length - 1] ?? p) + 1
  return (offset) => map[Math.max(0, Math.min(offset, value.length))] ?? p
}

function escapeLength(e: string | undefined): number {
  if (e === 'x') return 4
  if (e === 'u') return 6
  if (e === 'U') return 10
  return 2
}
