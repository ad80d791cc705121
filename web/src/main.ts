import 'uplot/dist/uPlot.min.css'
import './style.css'
import { api, ApiError, messageOf, whenUnauthorized } from './api.ts'
import { fill, h, type Cleanup } from './dom.ts'
import { clearKey, getKey, setKey, takeKeyFromFragment } from './key.ts'
import { liveFeed } from './live-feed.ts'
import { livePage, statusText } from './pages/live.ts'
import { profilePage } from './pages/profile.ts'
import { predictionsPage } from './pages/predictions.ts'
import { profilesPage } from './pages/profiles.ts'
import { reportsPage } from './pages/reports.ts'
import { segmentsPage } from './pages/segments.ts'

const PAGES = [
  ['live', 'Live'],
  ['segments', 'Segments'],
  ['profiles', 'Profiles'],
  ['reports', 'Reports'],
  ['predictions', 'Predictions'],
] as const

const nav = h('nav', { class: 'tabs' }, ...PAGES.map(([id, label]) => h('a', { href: `#/${id}`, 'data-page': id }, label)))
const live = h('span', { class: 'live-dot', 'data-testid': 'live-status' })
const keyButton = h('button', { type: 'button', class: 'secondary small', onclick: () => askForKey(null) }, 'API key')
const main = h('main')
document.getElementById('app')!.append(h('header', null, h('a', { class: 'brand', href: '#/live' }, 'tagstream'), nav, live, keyButton), main)

let leave: Cleanup = () => undefined

/** `#/profiles/17` → ['profiles', '17']. */
function route(): string[] {
  const parts = location.hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent)
  return parts.length === 0 ? ['live'] : parts
}

function render(): void {
  leave()
  leave = () => undefined
  const [page, arg] = route()
  for (const a of nav.querySelectorAll('a')) a.classList.toggle('active', a.dataset.page === page)
  main.replaceChildren()
  const root = h('div', { class: 'page', 'data-page': page ?? 'live' })
  main.append(root)
  if (page === 'segments') leave = segmentsPage(root)
  else if (page === 'profiles' && arg !== undefined) leave = profilePage(root, arg)
  else if (page === 'profiles') leave = profilesPage(root)
  else if (page === 'reports') leave = reportsPage(root, arg)
  else if (page === 'predictions') leave = predictionsPage(root)
  else leave = livePage(root)
}

/** Replaces the page with a key form; `problem` says why the last key did not work. */
function askForKey(problem: string | null): void {
  leave()
  leave = () => undefined
  liveFeed.stop()
  const input = h('input', { 'data-testid': 'key-input', type: 'password', autocomplete: 'off', placeholder: 'dev_…', size: 40 })
  const error = h('p', { class: 'error', 'data-testid': 'key-error' }, problem ?? '')
  const form = h(
    'form',
    { class: 'card key-box', 'data-testid': 'key-box' },
    h('h3', null, 'API key'),
    h(
      'p',
      null,
      'Paste a key with the read scope (the dev key that "tagstream serve" prints, or one from TAGSTREAM_API_KEYS). The SQL box needs the admin scope (the rows of its tenant), and so does saving a segment (the segments of its tenant). The key stays in this browser (localStorage); opening /#key=… sets it too.',
    ),
    h('div', { class: 'row' }, input, h('button', { type: 'submit' }, 'Use key')),
    error,
  )
  form.addEventListener('submit', (ev) => {
    ev.preventDefault()
    if (input.value.trim() === '') return
    setKey(input.value)
    void start()
  })
  fill(main, form)
  input.focus()
}

/** Checks the key once, then shows the page the address names. */
async function start(): Promise<void> {
  if (getKey() === null) return askForKey(null)
  try {
    await api('/v1/segments')
  } catch (err) {
    if (err instanceof ApiError && (err.status === 401 || err.status === 403)) {
      if (err.status === 401) clearKey()
      return askForKey(`This key was refused: ${err.message}`)
    }
    fill(main, h('p', { class: 'error' }, `The server did not answer: ${messageOf(err)}`))
    return
  }
  // A new key may see another tenant: start the live stream afresh with it.
  liveFeed.stop()
  liveFeed.start()
  render()
}

whenUnauthorized((err) => {
  clearKey()
  askForKey(`This key was refused: ${err.message}`)
})
liveFeed.subscribe((s) => {
  live.textContent = statusText(s)
  live.className = `live-dot ${s.state}`
})
window.addEventListener('hashchange', () => {
  // A link with a new key (`/#key=…`) opened in this tab changes only the fragment: no reload.
  if (/(?:^#|[#&])key=/.test(location.hash)) {
    takeKeyFromFragment()
    void start()
  } else if (getKey() !== null) render()
})
takeKeyFromFragment()
void start()
