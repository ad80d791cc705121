import { ValueProblem } from '../config/config-error.ts'
import type { Parser } from '../config/parsers.ts'
import { parseEventTime } from '../events/event-time.ts'

/**
 * A time flag (`--end`, `--as-of`): epoch milliseconds (digits) or ISO-8601, read exactly as event
 * times are, so the flag means what `ts` means. Errors go through src/config's format:
 * `--as-of yesterday: must be an ISO-8601 date-time or epoch milliseconds`.
 */
export const eventTimeFlag: Parser<number> = (raw) => {
  const text = raw.trim()
  const t = parseEventTime(/^\d+$/.test(text) ? Number(text) : text)
  if (t.ok) return t.ms
  // The reason adds something (epoch seconds, a date before 2000) unless it only repeats the value.
  const why = t.reason.includes(text) ? '' : ` (${t.reason})`
  throw new ValueProblem(`must be an ISO-8601 date-time or epoch milliseconds${why}`)
}
