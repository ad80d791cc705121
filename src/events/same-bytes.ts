/**
 * Whether x[xs, xs + len) and y[ys, ys + len) hold the same bytes. A loop over indexes, not
 * Buffer.compare or equals: those take views, an allocation per call, and the callers compare a few
 * dozen bytes on hot paths (the decoder's string cache, the collector's field names, the warehouse
 * sink's column memo).
 */
export function sameBytes(x: Uint8Array, xs: number, y: Uint8Array, ys: number, len: number): boolean {
  for (let i = 0; i < len; i++) if (x[xs + i] !== y[ys + i]) return false
  return true
}
