/**
 * Sums are carried as whole millionths: each value is rounded to 6 decimal places once, and the
 * millionths add and subtract as integers (exact in a float64 up to 2^53). So a window that holds
 * 3.33 + 3.33 + 3.34 sums to exactly 10, the result does not depend on the order the values came
 * in, and a running total never drifts as values slide out. docs/engine.md states the precision.
 */
export const MICROS = 1_000_000

/** Halves round up (Math.round), as the SQL backfill's floor(x * 1e6 + 0.5) does. */
export function toMicros(v: number): number {
  return Math.round(v * MICROS)
}

export function fromMicros(m: number): number {
  return m / MICROS
}
