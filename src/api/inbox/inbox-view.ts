import type { InboxMessage } from '../../state/state-store.ts'

/** A stored message as the API and the game's login answer show it (tenant and player are the request's). */
export function inboxView(m: InboxMessage): { id: string; trigger: string; message: string; event: string; event_id: string; at: number } {
  return { id: m.id, trigger: m.trigger, message: m.message, event: m.event, event_id: m.event_id, at: m.at }
}
