// Shapes the dashboard reads. Taken from the server's own declarations where those files import
// nothing Node-specific, so a change on the server breaks this build instead of the page.
export type { LiveHello, LiveSample } from '../../src/api/dashboard/live-sample.ts'
export type { BackfillStatus, MemberPage, Profile, ProfilePage, ProfileSegment, SegmentInfo, SegmentInput, TenantRuleSet } from '../../src/engine/thread/protocol.ts'

/** GET /v1/dashboard/profiles/:id/events (src/api/dashboard/recent-events.ts). */
export interface RecentEvents {
  events: Array<{ event: string; ts: number; received_at: number; event_id: string; properties: Record<string, unknown>; offset: number }>
  partition: number
  complete: boolean
}

/** One record of the segment-changes stream (docs/engine.md, docs/streams.md). */
export interface SegmentChange {
  segment: string
  tenant: string
  user_id: string
  change: 'entered' | 'exited'
  at: number
  values?: Record<string, number | null>
  partition: number
  offset: number
}

export interface RecentChanges {
  changes: SegmentChange[]
  cursor: string
}

/** POST /v1/query and GET /v1/reports/:name. */
export interface QueryResult {
  columns: Array<{ name: string; type: string }>
  rows: unknown[][]
  truncated: boolean
  ms: number
}

export interface ReportInfo {
  name: string
  title: string
  question: string
  params: Array<{ name: string; type: string; default: unknown; description: string }>
}

export interface Validation {
  valid: true
  metrics: string[]
}
