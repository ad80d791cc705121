import type { Value } from './compile-expr.ts'

/**
 * Reads `meta.price` from event properties. Anything that is not a string, boolean or finite number
 * (missing, null, an object, an array) reads as null, so rules never see JSON structure and a
 * missing property behaves exactly like an explicit null.
 */
export function readPath(props: Readonly<Record<string, unknown>>, path: readonly string[]): Value {
  let v: unknown = props
  for (const key of path) {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return null
    v = (v as Record<string, unknown>)[key]
  }
  return scalar(v)
}

export function scalar(v: unknown): Value {
  if (typeof v === 'string' || typeof v === 'boolean') return v
  if (typeof v === 'number' && Number.isFinite(v)) return v
  return null
}

/** A reader specialised at compile time: one-key paths are by far the most common. */
export function pathReader(path: readonly string[]): (props: Readonly<Record<string, unknown>>) => Value {
  const [only] = path
  if (path.length === 1 && only !== undefined) return (props) => scalar(props[only])
  return (props) => readPath(props, path)
}
