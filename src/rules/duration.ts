/** Milliseconds per unit. Months and years are left out on purpose: their length varies. */
export const DURATION_UNITS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const

export type DurationUnit = keyof typeof DURATION_UNITS

export type DurationResult = { ok: true; ms: number } | { ok: false; hint: string | undefined }

const SIMPLE = /^(\d+)([smhd])$/

/**
 * Parses `90m`, `2h`, `7d`: one whole number and one unit. Decimals and combinations like `1h30m`
 * are refused with a hint, so that a window has exactly one spelling the user can predict.
 */
export function parseDuration(text: string): DurationResult {
  const m = SIMPLE.exec(text)
  if (m) {
    const ms = Number(m[1]) * DURATION_UNITS[m[2] as DurationUnit]
    if (Number.isSafeInteger(ms)) return { ok: true, ms }
    return { ok: false, hint: 'too large' }
  }
  if (/^\d+\.\d+[smhd]$/.test(text)) return { ok: false, hint: 'durations are whole numbers: write 90m, not 1.5h' }
  if (/^(\d+[smhd]){2,}$/.test(text)) return { ok: false, hint: 'use a single unit: write 90m, not 1h30m' }
  if (/^\d+(\.\d+)?$/.test(text)) return { ok: false, hint: 'add a unit: s, m, h or d' }
  return { ok: false, hint: undefined }
}

/** The canonical spelling: the largest unit that divides exactly, so `120m` and `2h` share a key. */
export function formatDuration(ms: number): string {
  const sign = ms < 0 ? '-' : ''
  const abs = Math.abs(ms)
  for (const unit of ['d', 'h', 'm', 's'] as const) {
    const size = DURATION_UNITS[unit]
    if (abs !== 0 && abs % size === 0) return `${sign}${abs / size}${unit}`
  }
  // Only reachable for hand-built ASTs: the lexer never produces sub-second durations.
  return abs === 0 ? '0s' : `${sign}${abs / 1000}s`
}
