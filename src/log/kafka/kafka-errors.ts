/**
 * The client reports broker errors as (nested) errors carrying the protocol's error id and flags;
 * findBy walks the nesting. Kept in one place so the adapter never matches on message text.
 */
interface Findable {
  findBy?: (property: string, value: unknown) => unknown
}

/** True when `err` holds the protocol error `id` (e.g. "OFFSET_OUT_OF_RANGE"), or a flag like "hasStaleMetadata". */
export function hasKafkaError(err: unknown, idOrFlag: string): boolean {
  const e = err as Findable | null
  if (typeof e?.findBy !== 'function') return false
  return idOrFlag === 'hasStaleMetadata' ? Boolean(e.findBy('hasStaleMetadata', true)) : Boolean(e.findBy('apiId', idOrFlag))
}

/** Retriable when every error in the chain says so (leader moved, broker restarting, dropped connection). */
export function isRetriable(err: unknown): boolean {
  const e = err as (Findable & { canRetry?: boolean }) | null
  if (typeof e?.findBy === 'function') return !e.findBy('canRetry', false)
  return e?.canRetry === true
}
