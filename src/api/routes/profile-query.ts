import { parseEventTime } from '../../events/event-time.ts'
import type { CompareOp, TraitCondition, TraitInfo } from '../../engine/thread/protocol.ts'

/** Query parameters with a meaning of their own; every other key is read as a condition. */
const PARAMS = new Set(['segment', 'where', 'limit', 'cursor'])
/** A trait's name may be dotted: `predicted.churn_7d>0.7`. */
const CONDITION = /^([a-z_][a-z0-9_]*(?:\.[a-z_][a-z0-9_]*)*)\s*(>=|<=|!=|=|:|>|<)\s*(.*)$/

export type Parsed<T> = { ok: true; value: T } | { ok: false; message: string }

/**
 * Reads trait conditions from `where=country:TR,last_seen>2026-11-01T00:00:00Z` and from bare query
 * keys such as `&last_seen>2026-11-01` (which URLSearchParams splits at its first "="). `traits`
 * are the ones the running rules know (GET /v1/traits): the built-ins and the declared ones.
 */
export function parseConditions(url: string, traits: readonly TraitInfo[]): Parsed<TraitCondition[]> {
  const types = new Map(traits.map((t) => [t.name, t.type]))
  const params = new URL(url, 'http://x').searchParams
  const texts: string[] = []
  for (const [key, value] of params) {
    if (key === 'where')
      texts.push(
        ...value
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
      )
    else if (!PARAMS.has(key)) texts.push(value === '' ? key : `${key}=${value}`)
  }
  const out: TraitCondition[] = []
  for (const text of texts) {
    const m = CONDITION.exec(text)
    if (!m) return { ok: false, message: `condition "${text}" must look like trait:value, trait>value, trait>=value, trait<value, trait<=value or trait!=value` }
    const [, trait, rawOp, raw] = m as unknown as [string, string, string, string]
    const type = types.get(trait)
    if (type === undefined) return { ok: false, message: `unknown trait "${trait}"; known traits: ${[...types.keys()].join(', ')}` }
    const op: CompareOp = rawOp === ':' ? '=' : (rawOp as CompareOp)
    if (type === 'timestamp') {
      const t = parseEventTime(/^\d+$/.test(raw) ? Number(raw) : raw)
      if (!t.ok) return { ok: false, message: `${trait}: ${t.reason}` }
      out.push({ trait, op, value: t.ms })
    } else if (type === 'number') {
      const n = Number(raw)
      if (raw === '' || !Number.isFinite(n)) return { ok: false, message: `${trait} compares with a number, got "${raw}"` }
      out.push({ trait, op, value: n })
    } else if (type === 'boolean') {
      if (raw !== 'true' && raw !== 'false') return { ok: false, message: `${trait} is true or false, got "${raw}"` }
      if (op !== '=' && op !== '!=') return { ok: false, message: `${trait} compares with = or != only` }
      out.push({ trait, op, value: raw })
    } else out.push({ trait, op, value: raw })
  }
  return { ok: true, value: out }
}

export function parseLimit(value: unknown, fallback: number, max: number): Parsed<number> {
  if (value === undefined) return { ok: true, value: fallback }
  const n = Number(value)
  if (!Number.isInteger(n) || n < 1 || n > max) return { ok: false, message: `limit must be an integer from 1 to ${max}, got "${String(value)}"` }
  return { ok: true, value: n }
}
