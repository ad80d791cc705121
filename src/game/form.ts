/** A form body whose percent-encoding is not UTF-8 (`name=%ff%fe`): refused, not stored as U+FFFD. */
export class FormEncodingError extends Error {
  readonly code = 'FORM_ENCODING'
  constructor(readonly field: string) {
    super(`form field ${JSON.stringify(field.slice(0, 64))} is not valid percent-encoded UTF-8`)
  }
}

function decode(part: string, field: string): string {
  try {
    return decodeURIComponent(part.replaceAll('+', ' '))
  } catch {
    throw new FormEncodingError(field)
  }
}

/**
 * `application/x-www-form-urlencoded` bodies (seed 003: `curl -d 'userid=…&cost=…'`). Decoded
 * strictly (URLSearchParams would turn `%ff` into U+FFFD and store it). A repeated field becomes an
 * array, which the field readers refuse by name, so `cost=1&cost=1000` is an error rather than a
 * guess. Null prototype: a `__proto__` field is data.
 */
export function parseForm(text: string): Record<string, string | string[]> {
  const out = Object.create(null) as Record<string, string | string[]>
  const pairs: Array<[string, string]> = []
  for (const piece of text.split('&')) {
    if (piece === '') continue
    const eq = piece.indexOf('=')
    const rawKey = eq < 0 ? piece : piece.slice(0, eq)
    const key = decode(rawKey, rawKey)
    pairs.push([key, eq < 0 ? '' : decode(piece.slice(eq + 1), key)])
  }
  for (const [key, value] of pairs) {
    const prev = out[key]
    out[key] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value]
  }
  return out
}
