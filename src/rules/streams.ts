/**
 * Event streams (docs/streams.md, "Event streams"): classes of events, each also written by the
 * engine to a log of its own as JSON, for consumers that want only buys or only social events
 * (seed 003's `buy_events` and `social_events` topics). The rules file's `streams:` section adds
 * classes or redefines these two; a class listing no event is off.
 */
export interface StreamDefinition {
  name: string
  /** The event names of the class; `'*'` = every event. Empty: the class is off. */
  events: readonly string[] | '*'
  description?: string | undefined
}

/** The classes every server has unless its rules file says otherwise. */
export const DEFAULT_STREAMS: readonly StreamDefinition[] = [
  { name: 'buy', events: ['purchase', 'in_app_purchase'], description: 'commercial events: purchases and in-app purchases' },
  { name: 'social', events: ['join_guild', 'join_team'], description: 'joining guilds and teams' },
]

/** At most this many classes in a file: each is a log (a Kafka topic) and a copy of its events. */
export const MAX_STREAMS = 20

/** Lower case, digits and _: a stream's name is part of a Kafka topic name and of SSE cursors. */
const STREAM_NAME = /^[a-z][a-z0-9_]{0,39}$/

export function streamNameProblem(name: string): string | null {
  return STREAM_NAME.test(name) ? null : 'use lower-case letters, digits and _, starting with a letter, at most 40 characters'
}

/** The classes in effect: the defaults, replaced by the file's classes of the same name, then the file's others; classes that are off left out. */
export function effectiveStreams(own: readonly StreamDefinition[] | undefined): StreamDefinition[] {
  const mine = own ?? []
  const byName = new Map(mine.map((s) => [s.name, s]))
  const all = [...DEFAULT_STREAMS.map((s) => byName.get(s.name) ?? s), ...mine.filter((s) => !DEFAULT_STREAMS.some((d) => d.name === s.name))]
  return all.filter((s) => s.events === '*' || s.events.length > 0)
}
