import { encodeEvent, partitionKey, validateEvent, type TrackedEvent } from '../src/events/index.ts'

/** ~150-byte events like seed 000's slot machine traffic, already validated and encoded. */
export function sampleEvents(n: number, users = 10_000, start = Date.UTC(2026, 10, 1)): TrackedEvent[] {
  const out: TrackedEvent[] = new Array(n)
  for (let i = 0; i < n; i++) {
    const purchase = i % 50 === 0
    const r = validateEvent(
      purchase ? { event: 'in_app_purchase', user_id: String(i % users), ts: start + i, amount: 4.99, item: 'coins' } : { event: 'spin', user_id: String(i % users), ts: start + i, bet: 10 },
      { receivedAt: start + i },
    )
    if (!r.ok) throw new Error(r.error.reason)
    out[i] = r.event
  }
  return out
}

export function encodedRecords(events: TrackedEvent[]): Array<{ key: string; value: Buffer }> {
  return events.map((e) => ({ key: partitionKey(e.tenant, e.user_id), value: encodeEvent(e) }))
}
