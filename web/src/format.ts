const numberFormat = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 })
const intFormat = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 })

export function num(n: number | null | undefined): string {
  if (n === null || n === undefined || Number.isNaN(n)) return '–'
  return Math.abs(n) >= 100 ? intFormat.format(n) : numberFormat.format(n)
}

export function bytes(n: number): string {
  if (n < 1024) return `${num(n)} B`
  if (n < 1024 * 1024) return `${num(n / 1024)} KiB`
  return `${num(n / 1024 / 1024)} MiB`
}

/** Epoch ms → `2026-01-02 10:00:01` in the browser's time zone. */
export function time(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '–'
  const d = new Date(ms)
  const p = (x: number) => String(x).padStart(2, '0')
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`
}

export function clock(ms: number): string {
  return time(ms).slice(11)
}

/** `3m ago`, `in 2h`: how far from now. */
export function ago(ms: number | null | undefined, now = Date.now()): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '–'
  const d = Math.round((now - ms) / 1000)
  const a = Math.abs(d)
  const text = a < 60 ? `${a}s` : a < 3600 ? `${Math.round(a / 60)}m` : a < 86_400 ? `${Math.round(a / 3600)}h` : `${Math.round(a / 86_400)}d`
  return d >= 0 ? `${text} ago` : `in ${text}`
}

/** A JSON value shortened for a table cell. */
export function short(value: unknown, max = 120): string {
  const s = typeof value === 'string' ? value : JSON.stringify(value)
  return s.length > max ? `${s.slice(0, max - 1)}…` : s
}
