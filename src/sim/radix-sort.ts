/**
 * Stable argsort of unsigned 32-bit keys: the order of indices that sorts `keys`, equal keys kept in
 * index order. LSD radix in 16-bit digits is linear, so sorting millions of event times costs a few
 * milliseconds instead of the seconds a comparator sort would take.
 */
export function argsortU32(keys: Uint32Array): Uint32Array {
  const n = keys.length
  let order = new Uint32Array(n)
  for (let i = 0; i < n; i++) order[i] = i
  let max = 0
  for (let i = 0; i < n; i++) if (keys[i]! > max) max = keys[i]!
  let spare = new Uint32Array(n)
  for (let shift = 0; shift < 32 && max >>> shift > 0; shift += 16) {
    const starts = new Uint32Array(65537)
    for (let i = 0; i < n; i++) starts[((keys[i]! >>> shift) & 0xffff) + 1]!++
    for (let d = 1; d <= 65536; d++) starts[d]! += starts[d - 1]!
    for (let i = 0; i < n; i++) {
      const j = order[i]!
      spare[starts[(keys[j]! >>> shift) & 0xffff]!++] = j
    }
    ;[order, spare] = [spare, order]
  }
  return order
}
