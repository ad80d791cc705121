/** One option check: generators throw a RangeError naming the option, the rule and the value. */
export function checkOption(name: string, value: unknown, ok: boolean, what: string): void {
  if (!ok) throw new RangeError(`${name} must be ${what}, got ${JSON.stringify(value)}`)
}
