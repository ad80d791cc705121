import type { RulesDefinition } from './types.ts'

/**
 * Rules already known to compile, as plain data another thread can be sent (structured clone): the
 * same definition without the functions that place a compile error in the YAML file (`source`),
 * which only a failed compile reads and which cannot be cloned.
 */
export function shareableRules(def: RulesDefinition): RulesDefinition {
  const out: RulesDefinition = {
    segments: def.segments.map(({ source: _, ...s }) => s),
    triggers: def.triggers.map(({ source: _, ...t }) => t),
  }
  if (def.traits !== undefined) out.traits = def.traits.map((t) => (t.kind === 'computed' ? (({ source: _, ...c }) => c)(t) : t))
  if (def.streams !== undefined) out.streams = def.streams
  return out
}
