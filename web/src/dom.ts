type Child = Node | string | number | null | undefined | false
type Props = Record<string, string | number | boolean | null | undefined | ((ev: Event) => void)>

/**
 * Builds an element: `h('button', { class: 'x', onclick: go }, 'Run')`. Text children are text
 * nodes, never HTML, so values from the server cannot inject markup.
 */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props: Props | null = null, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag)
  if (props) {
    for (const [name, value] of Object.entries(props)) {
      if (typeof value === 'function') el.addEventListener(name.slice(2), value)
      else if (value === true) el.setAttribute(name, '')
      else if (value !== false && value !== null && value !== undefined) el.setAttribute(name, String(value))
    }
  }
  append(el, children)
  return el
}

export function append(el: Element, children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue
    el.append(typeof c === 'number' ? String(c) : c)
  }
}

/** Replaces an element's children. */
export function fill(el: Element, ...children: Child[]): void {
  el.replaceChildren()
  append(el, children)
}

/** A table of rows; cells may be nodes or text. */
export function table(head: string[], rows: Child[][], props: Props | null = null): HTMLTableElement {
  return h(
    'table',
    props,
    h('thead', null, h('tr', null, ...head.map((c) => h('th', null, c)))),
    h('tbody', null, ...rows.map((r) => h('tr', null, ...r.map((c) => h('td', typeof c === 'number' ? { class: 'num' } : null, c))))),
  )
}

/** What a page hands back to the router: called when the user leaves it. */
export type Cleanup = () => void
