import type { Node } from 'yaml'
import { isMap, isScalar, isSeq } from './yaml-lib.ts'
import { quote } from './errors.ts'
import { MAX_STREAMS, streamNameProblem, type StreamDefinition } from './streams.ts'
import { describeNode, text } from './yaml-expr.ts'
import type { Entry, YamlFile } from './yaml-nodes.ts'

const STREAM_KEYS = ['events', 'description'] as const

/**
 * The rules file's `streams:` section (docs/streams.md, "Event streams"):
 *
 *   streams:
 *     buy: { events: [purchase, in_app_purchase] }   # redefines the built-in class
 *     progress: { events: [level_up, achievement] }
 *     all: { events: "*" }                            # every event
 *     social: { events: [] }                          # off
 */
export function parseStreamsSection(y: YamlFile, value: Node): StreamDefinition[] {
  if (!isMap(value)) throw y.errorAtNode(value, 0, 'streams', '"streams" must be a map from stream name to { events: [...] }')
  const out: StreamDefinition[] = []
  for (const entry of y.entries(value, 'streams')) {
    if (out.length === MAX_STREAMS) throw y.error(entry.keyNode.range?.[0] ?? 0, 'streams', `at most ${MAX_STREAMS} streams can be defined`)
    out.push(streamDefinition(y, entry))
  }
  return out
}

function streamDefinition(y: YamlFile, { key: name, keyNode, value }: Entry): StreamDefinition {
  const path = `streams.${name}`
  const at = keyNode.range?.[0] ?? 0
  const problem = streamNameProblem(name)
  if (problem !== null) throw y.error(at, path, `invalid stream name ${quote(name)}: ${problem}`)
  if (!isMap(value)) throw y.errorAtNode(value, at, path, `a stream is a map with "events", got ${describeNode(value)}`)
  const entries = y.entries(value, path)
  y.checkKeys(entries, STREAM_KEYS, path)
  const events = entries.find((e) => e.key === 'events')
  if (!events || events.value === null) throw y.error(at, path, 'missing "events": a list of event names, "*" for every event, or [] to turn the stream off')
  return {
    name,
    events: eventList(y, events.value, `${path}.events`),
    description: text(
      y,
      entries.find((e) => e.key === 'description'),
      `${path}.description`,
      {},
    ),
  }
}

function eventList(y: YamlFile, node: Node, path: string): string[] | '*' {
  if (isScalar(node) && node.value === '*') return '*'
  if (!isSeq(node)) throw y.errorAtNode(node, 0, path, `events is a list of event names or "*", got ${describeNode(node)}`)
  const names = new Set<string>()
  for (const item of node.items) {
    const v = isScalar(item) ? item.value : undefined
    if (typeof v !== 'string' || v.trim() === '' || v.trim() === '*') throw y.errorAtNode(item as Node, 0, path, 'each item of events is an event name (use events: "*" alone for every event)')
    names.add(v.trim())
  }
  return [...names]
}
