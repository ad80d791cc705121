import { RESERVED_FIELDS, type EventError } from '../../events/index.ts'
import { eventNameOf, type SegmentResult } from '../segment/message.ts'

/*
 * One event of PostHog's capture API (what posthog-node sends to /batch/) read as one of our events
 * (docs/segment.md, "PostHog"). Like a Segment call, the result is a candidate for validateEvent.
 *
 *   event            the event name: $identify → identify, $create_alias → alias, $pageview → page,
 *                    $screen → screen, $groupidentify → group; other names as Segment's track names
 *                    are (`$pageleave` → `_pageleave`, the name as sent kept as `original_event`)
 *   distinct_id      user_id       ($identify's properties.$anon_distinct_id: anonymous_id)
 *   uuid             event_id      timestamp: ts       sent_at (the event's or the batch's): sent_at
 *   properties       top-level properties; $set_once and then $set (identify's traits) on top of them
 *   $create_alias    properties.alias: the property previous_id
 */

const NAMES: Record<string, string> = { $identify: 'identify', $create_alias: 'alias', $pageview: 'page', $screen: 'screen', $groupidentify: 'group' }

/** Properties read into the envelope, or spread on top (traits), never kept as they are. */
const CONSUMED = new Set(['$set', '$set_once', '$anon_distinct_id', 'distinct_id', 'token'])
const TAKEN = new Set<string>([...RESERVED_FIELDS, 'received_at', 'original_event', 'previous_id'])

const refuse = (field: string, reason: string): SegmentResult => ({ ok: false, error: { field, reason } })

export function fromPosthog(msg: unknown): SegmentResult {
  if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) return refuse('(event)', 'must be a JSON object')
  const m = msg as Record<string, unknown>
  const sent = m.event
  if (sent === undefined || sent === null || sent === '') return refuse('event', 'is required')
  if (typeof sent !== 'string') return refuse('event', `must be a string, got ${typeof sent}`)
  const props = m.properties ?? {}
  if (typeof props !== 'object' || props === null || Array.isArray(props)) return refuse('properties', `must be an object, got ${Array.isArray(props) ? 'array' : typeof props}`)
  const p = props as Record<string, unknown>
  const out: Record<string, unknown> = {}
  for (const key in p) if (Object.hasOwn(p, key) && !CONSUMED.has(key)) out[TAKEN.has(key) ? `_${key}` : key] = p[key]
  for (const bag of [p.$set_once, p.$set]) {
    if (typeof bag !== 'object' || bag === null || Array.isArray(bag)) continue
    for (const key in bag) if (Object.hasOwn(bag, key)) out[TAKEN.has(key) ? `_${key}` : key] = (bag as Record<string, unknown>)[key]
  }
  const name = NAMES[sent] ?? eventNameOf(sent)
  if (name !== sent) out.original_event = sent
  out.event = name
  const distinct = m.distinct_id ?? p.distinct_id
  if (distinct !== undefined && distinct !== null && distinct !== '') out.user_id = distinct
  if (sent === '$identify' && p.$anon_distinct_id !== undefined && p.$anon_distinct_id !== null) out.anonymous_id = p.$anon_distinct_id
  if (sent === '$create_alias') {
    if (p.alias === undefined || p.alias === null || p.alias === '') return refuse('properties.alias', 'is required for $create_alias')
    if (p.alias === out.user_id) return refuse('properties.alias', 'must differ from distinct_id: an alias to itself links nothing')
    out.previous_id = p.alias
  }
  if (m.uuid !== undefined && m.uuid !== null) out.event_id = m.uuid
  if (m.timestamp !== undefined) out.ts = m.timestamp
  if (m.sent_at !== undefined) out.sent_at = m.sent_at
  return { ok: true, candidate: out }
}

const SPEC_NAMES: Record<string, string> = {
  user_id: 'distinct_id',
  anonymous_id: 'properties.$anon_distinct_id',
  event_id: 'uuid',
  ts: 'timestamp',
  previous_id: 'properties.alias',
  original_event: 'event',
}

/** An error about the event fromPosthog made of `msg`, in PostHog's names. */
export function posthogError(msg: unknown, error: EventError): EventError {
  const reason = error.reason.replace(/\(or anonymous_id\)/, '').trimEnd()
  const split = /^([^.[]*)(.*)$/.exec(error.field)!
  const head = split[1]!
  const spec = SPEC_NAMES[head]
  if (spec !== undefined) return { field: spec + split[2]!, reason }
  if (head === 'event' || head === 'sent_at' || head.startsWith('(') || typeof msg !== 'object' || msg === null) return { field: error.field, reason }
  const p = (msg as { properties?: unknown }).properties
  const sent = head.startsWith('_') ? head.slice(1) : head
  for (const bag of ['$set', '$set_once']) {
    const b = typeof p === 'object' && p !== null ? (p as Record<string, unknown>)[bag] : undefined
    if (typeof b === 'object' && b !== null && Object.hasOwn(b, sent)) return { field: `properties.${bag}.${sent}${split[2]!}`, reason }
  }
  return { field: `properties.${sent}${split[2]!}`, reason }
}
