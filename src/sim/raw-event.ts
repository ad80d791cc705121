/**
 * An event as a client would send it: flat, `ts` in epoch milliseconds, properties beside the
 * reserved fields. Generators produce these; the collector validates them into TrackedEvent.
 */
export type RawEvent = {
  event: string
  user_id: string
  ts: number
  [property: string]: string | number
}
