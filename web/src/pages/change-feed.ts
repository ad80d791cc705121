import { api, enc, messageOf } from '../api.ts'
import { h } from '../dom.ts'
import { clock } from '../format.ts'
import { openStream } from '../sse.ts'
import type { RecentChanges, SegmentChange } from '../types.ts'

/** Items kept on screen. */
const KEEP = 100

/**
 * Entries and exits as they happen: the latest few from the log, then the segment-changes
 * stream from exactly where those end (the server hands back the cursor), so none is shown twice.
 */
export function changeFeed(): { el: HTMLElement; destroy(): void } {
  const list = h('ol', { class: 'feed', 'data-testid': 'change-feed' })
  const state = h('span', { class: 'muted' }, 'loading…')
  const el = h('section', { class: 'card' }, h('h3', null, 'Entries and exits ', state), list)
  let stream: { close(): void } | null = null
  let stopped = false

  const item = (c: SegmentChange) =>
    h(
      'li',
      { class: c.change },
      h('span', { class: 'when' }, clock(c.at)),
      h('span', { class: 'change' }, c.change === 'entered' ? '▲ entered' : '▼ exited'),
      h('span', { class: 'segment' }, c.segment),
      h('a', { href: `#/profiles/${enc(c.user_id)}` }, c.user_id),
    )
  const add = (c: SegmentChange) => {
    list.prepend(item(c))
    while (list.childElementCount > KEEP) list.lastElementChild?.remove()
  }

  void (async () => {
    try {
      const recent = await api<RecentChanges>('/v1/dashboard/recent-changes?limit=50')
      if (stopped) return
      for (const c of recent.changes) add(c)
      stream = openStream(`/v1/segment-changes?from=${enc(recent.cursor)}`, {
        onEvent: (event, data) => {
          if (event === 'segment-change') add(JSON.parse(data) as SegmentChange)
        },
        onState: (s, err) => {
          state.textContent = s === 'open' ? '· live' : s === 'failed' ? `· ${err?.message ?? 'refused'}` : `· ${s}…`
        },
      })
    } catch (err) {
      state.textContent = `· ${messageOf(err)}`
    }
  })()

  return {
    el,
    destroy() {
      stopped = true
      stream?.close()
    },
  }
}
