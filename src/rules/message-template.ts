import { readPath } from './read-path.ts'

/** A trigger's `message` text, with `{property}` read from the triggering event. */
export type MessageTemplate = (props: Readonly<Record<string, unknown>>) => string

/** Longest template, and longest message a template renders (a property can be long). */
export const MESSAGE_LIMITS = { template: 1_000, rendered: 2_000 } as const

const PATH = /^[A-Za-z0-9_$-]+(\.[A-Za-z0-9_$-]+)*$/

/**
 * Compiles `You bought a {item} for {cost}!`: `{name}` or `{a.b}` is the triggering event's property
 * (a string, number or boolean; anything else reads as empty), `{{` and `}}` are literal braces.
 * Returns the renderer, or the problem with the text as a message for a RuleError.
 */
export function compileMessage(template: string): MessageTemplate | string {
  if (template.length > MESSAGE_LIMITS.template) return `a message is at most ${MESSAGE_LIMITS.template} characters, this one ${template.length}`
  const parts: Array<string | readonly string[]> = []
  let literal = ''
  for (let i = 0; i < template.length; i++) {
    const c = template[i]!
    if ((c === '{' || c === '}') && template[i + 1] === c) {
      literal += c
      i++
    } else if (c === '{') {
      const close = template.indexOf('}', i + 1)
      const name = close < 0 ? '' : template.slice(i + 1, close)
      if (!PATH.test(name)) return `at character ${i + 1}: "{" opens a property such as {item} or {cart.total} (write {{ for a brace)`
      if (literal !== '') parts.push(literal)
      literal = ''
      parts.push(name.split('.'))
      i = close
    } else if (c === '}') return `at character ${i + 1}: "}" closes nothing (write }} for a brace)`
    else literal += c
  }
  if (literal !== '') parts.push(literal)
  return (props) => {
    let out = ''
    for (const p of parts) out += typeof p === 'string' ? p : String(readPath(props, p) ?? '')
    return out.length > MESSAGE_LIMITS.rendered ? `${out.slice(0, MESSAGE_LIMITS.rendered - 1)}…` : out
  }
}
