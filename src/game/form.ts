/**
 * `application/x-www-form-urlencoded` bodies (seed 003: `curl -d 'userid=…&cost=…'`), parsed with
 * URLSearchParams. A repeated field becomes an array, which the field readers refuse by name, so
 * `cost=1&cost=1000` is an error rather than a guess. Null prototype: a `__proto__` field is data.
 */
export function parseForm(text: string): Record<string, string | string[]> {
  const out = Object.create(null) as Record<string, string | string[]>
  for (const [key, value] of new URLSearchParams(text)) {
    const prev = out[key]
    out[key] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value]
  }
  return out
}
