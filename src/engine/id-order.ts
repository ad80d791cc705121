/** An id written as a plain decimal integer (no sign on 0, no leading zeros, no exponent), within 2^53. */
const INTEGER = /^(0|-?[1-9][0-9]{0,15})$/

function integerOf(id: string): number | null {
  if (!INTEGER.test(id)) return null
  const n = Number(id)
  return Number.isSafeInteger(n) ? n : null
}

/**
 * The order user ids are listed and paged in: ids that are plain integers first, in numeric order,
 * then every other id in code unit order. A total order, so a page cursor (the last id) is stable
 * over any mix of ids; the old rule (numeric when both parse as numbers, else as text) was not:
 * "2" < "10" < "1a" < "2".
 */
export function compareIds(a: string, b: string): number {
  const na = integerOf(a)
  const nb = integerOf(b)
  if (na !== null && nb !== null) return na - nb
  if (na !== null) return -1
  if (nb !== null) return 1
  return a < b ? -1 : a > b ? 1 : 0
}
