/** Segment, trigger and emit names: path- and key-safe. */
const NAME = /^[A-Za-z_][A-Za-z0-9_.:-]{0,127}$/

/**
 * Whether `name` can name a segment or trigger. `__proto__` fits the pattern but not a JavaScript
 * object key: a segment by that name worked live and was gone after a restart.
 */
export function isRuleName(name: string): boolean {
  return NAME.test(name) && name !== '__proto__'
}
