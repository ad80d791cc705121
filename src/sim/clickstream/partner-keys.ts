import type { RawEvent } from '../raw-event.ts'
import { partner } from './catalog.ts'

/**
 * The API key each event is sent with: partner i uses key i mod the number of keys. One key puts
 * every partner in that key's tenant (partner_id tells them apart); one key per partner makes
 * each partner a tenant of its own, as seed 004's tracking service keeps its partners apart.
 */
export function partnerKeys(partners: number, keys: readonly string[]): (e: RawEvent) => string {
  if (keys.length === 0) throw new RangeError('at least one API key is needed')
  const byId = new Map<string | number, string>()
  for (let i = 0; i < partners; i++) byId.set(partner(i).id, keys[i % keys.length]!)
  return (e) => byId.get(e.partner_id ?? '') ?? keys[0]!
}
