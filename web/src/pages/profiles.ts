import { api, enc, messageOf } from '../api.ts'
import { fill, h, table, type Cleanup } from '../dom.ts'
import { ago, num } from '../format.ts'
import type { Profile, ProfilePage, SegmentInfo } from '../types.ts'

/** Profiles: open one by user id, or search by segment and trait conditions. */
export function profilesPage(root: HTMLElement): Cleanup {
  const userId = h('input', { 'data-testid': 'user-id', placeholder: 'user id', autocomplete: 'off', spellcheck: 'false' })
  const byId = h(
    'form',
    { class: 'card', 'data-testid': 'find-user' },
    h('h3', null, 'Find a user'),
    h('div', { class: 'row' }, userId, h('button', { type: 'submit', 'data-testid': 'open-user' }, 'Open')),
  )
  byId.addEventListener('submit', (ev) => {
    ev.preventDefault()
    const id = userId.value.trim()
    if (id !== '') location.hash = `#/profiles/${enc(id)}`
  })

  const segment = h('select', { 'data-testid': 'search-segment' }, h('option', { value: '' }, 'any segment'))
  const where = h('input', { 'data-testid': 'search-where', placeholder: 'country:TR, total_purchases>=10, last_seen>2026-01-01', class: 'grow', spellcheck: 'false' })
  const results = h('div', { 'data-testid': 'search-results' })
  const more = h('button', { type: 'button', class: 'secondary', hidden: true }, 'More')
  const search = h(
    'form',
    { class: 'card' },
    h('h3', null, 'Search by segment and traits'),
    h('div', { class: 'row' }, segment, where, h('button', { type: 'submit' }, 'Search')),
    h(
      'p',
      { class: 'muted' },
      'Conditions: trait:value, trait>value, >=, <, <=, != — separated by commas. Traits: country, language, first_seen, last_seen, event_count, total_purchases, is_new, … and those the rules file declares (GET /v1/traits).',
    ),
    results,
    more,
  )
  fill(root, h('div', { class: 'two' }, byId, search))
  userId.focus()

  void api<{ segments: SegmentInfo[] }>('/v1/segments')
    .then((r) => segment.append(...r.segments.map((s) => h('option', { value: s.name }, `${s.name} (${num(s.size)})`))))
    .catch(() => undefined)

  let rows: Profile[] = []
  let next: string | null = null
  const run = async (cursor: string | null) => {
    const q = new URLSearchParams()
    if (segment.value !== '') q.set('segment', segment.value)
    if (where.value.trim() !== '') q.set('where', where.value.trim())
    q.set('limit', '50')
    if (cursor !== null) q.set('cursor', cursor)
    try {
      const page = await api<ProfilePage>(`/v1/profiles?${q}`)
      rows = cursor === null ? page.profiles : [...rows, ...page.profiles]
      next = page.next
      fill(
        results,
        rows.length === 0
          ? h('p', { class: 'muted' }, 'No profile matches.')
          : table(
              ['user', 'country', 'last seen', 'events', 'purchases', 'segments'],
              rows.map((p) => [
                h('a', { href: `#/profiles/${enc(p.user_id)}` }, p.user_id),
                p.traits.country ?? '',
                ago(p.traits.last_seen),
                p.traits.event_count,
                num(p.traits.total_purchases),
                p.segments.map((s) => s.segment).join(', '),
              ]),
            ),
      )
      more.hidden = next === null
    } catch (err) {
      fill(results, h('p', { class: 'error', 'data-testid': 'search-error' }, messageOf(err)))
      more.hidden = true
    }
  }
  search.addEventListener('submit', (ev) => {
    ev.preventDefault()
    void run(null)
  })
  more.addEventListener('click', () => void run(next))
  return () => undefined
}
