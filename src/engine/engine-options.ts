/** Engine settings; every default is named in docs/engine.md. */
export interface EngineOptions {
  /** Buckets per window: a window of W has buckets of W / bucketsPerWindow. Default 120 (2h → 1m). */
  bucketsPerWindow: number
  /** Watermark = max event time − allowed lateness; events ahead of it are held. Default 0. */
  allowedLatenessMs: number
  /** Events held ahead of the watermark per partition; beyond it the earliest are released. Default 1,000,000. */
  maxHeldEvents: number
  /** Events whose amount feeds total_purchases. Default purchase, in_app_purchase, approved_purchase. */
  purchaseEvents: readonly string[]
  /** The property summed into total_purchases. Default amount. */
  purchaseAmountField: string
  /** is_new holds for this long after first_seen. Default 24h. */
  newUserMs: number
  /** Re-evaluation period for since() forms whose flip time cannot be read off the rule. Default 1m. */
  sinceResolutionMs: number
  /** Most ids one person holds, their own included; links beyond are refused (docs/identity.md). Default 100. */
  identityMaxIds: number
}

export const DEFAULT_ENGINE_OPTIONS: EngineOptions = {
  bucketsPerWindow: 120,
  allowedLatenessMs: 0,
  maxHeldEvents: 1_000_000,
  purchaseEvents: ['purchase', 'in_app_purchase', 'approved_purchase'],
  purchaseAmountField: 'amount',
  newUserMs: 24 * 60 * 60 * 1000,
  sinceResolutionMs: 60 * 1000,
  identityMaxIds: 100,
}

export function engineOptions(partial: Partial<EngineOptions> = {}): EngineOptions {
  return { ...DEFAULT_ENGINE_OPTIONS, ...partial }
}
