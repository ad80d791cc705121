import { api, ApiError, enc, messageOf } from '../api.ts'
import { fill, h } from '../dom.ts'
import type { SegmentInfo, SegmentInput, Validation } from '../types.ts'

export interface RuleEditor {
  el: HTMLElement
  load(s: SegmentInfo | null): void
  destroy(): void
}

/** How long typing pauses before the rule is checked. */
const CHECK_DELAY_MS = 250

/**
 * Edits one segment: every pause in typing checks the rule on the server (the same compiler PUT
 * uses, without applying it) and an error is shown where it is, under the line it is on; Save
 * sends PUT /v1/segments/:id.
 */
export function ruleEditor(onSaved: (s: SegmentInfo) => void): RuleEditor {
  const name = h('input', { 'data-testid': 'rule-name', placeholder: 'segment_name', spellcheck: 'false', autocomplete: 'off' })
  const when = h('textarea', { 'data-testid': 'rule-when', rows: 4, spellcheck: 'false', placeholder: 'count(spin, 1h) >= 100 and sum(purchase.amount, 7d) > 10' })
  const keep = h('input', { 'data-testid': 'rule-keep', placeholder: 'e.g. 3m (optional)', spellcheck: 'false', autocomplete: 'off' })
  const description = h('input', { 'data-testid': 'rule-description', placeholder: 'optional', autocomplete: 'off' })
  const status = h('div', { class: 'rule-status', 'data-testid': 'rule-status' })
  const error = h('div', { class: 'rule-error', 'data-testid': 'rule-error', hidden: true })
  const save = h('button', { 'data-testid': 'rule-save', type: 'submit' }, 'Save')
  const fresh = h('button', { type: 'button', class: 'secondary' }, 'New segment')
  const form = h(
    'form',
    { class: 'rule-editor card', 'data-testid': 'rule-editor' },
    h('h3', null, 'Rule editor'),
    h('label', null, 'Name', name),
    h('label', null, 'When', when),
    error,
    h('div', { class: 'row' }, h('label', null, 'Keep', keep), h('label', { class: 'grow' }, 'Description', description)),
    h('div', { class: 'row' }, save, fresh, status),
  )

  let timer: ReturnType<typeof setTimeout> | null = null
  let seq = 0
  let inflight: AbortController | null = null

  const input = (): SegmentInput => ({
    when: when.value,
    ...(keep.value.trim() === '' ? {} : { keep: keep.value.trim() }),
    ...(description.value.trim() === '' ? {} : { description: description.value.trim() }),
  })
  const segmentName = () => name.value.trim() || 'draft'

  const showError = (err: unknown) => {
    when.setAttribute('aria-invalid', 'false')
    if (!(err instanceof ApiError)) {
      fill(error, messageOf(err))
      error.hidden = false
      return
    }
    const parts: Array<Node | string> = [h('div', { class: 'message' }, err.message)]
    if (err.field === 'when' && err.line !== undefined && err.column !== undefined) {
      when.setAttribute('aria-invalid', 'true')
      const lineText = when.value.split('\n')[err.line - 1] ?? ''
      parts.push(h('pre', { class: 'excerpt' }, `${lineText}\n${' '.repeat(Math.max(0, err.column - 1))}^`))
      const line = err.line
      const column = err.column
      parts.push(h('button', { type: 'button', class: 'link', onclick: () => focusAt(when, line, column) }, `go to line ${line}, column ${column}`))
    }
    fill(error, ...parts)
    error.hidden = false
  }

  const clearError = () => {
    error.hidden = true
    error.replaceChildren()
    when.removeAttribute('aria-invalid')
  }

  const check = async () => {
    if (when.value.trim() === '') {
      clearError()
      status.textContent = ''
      return
    }
    const mine = ++seq
    inflight?.abort()
    inflight = new AbortController()
    status.textContent = 'checking…'
    try {
      const v = await api<Validation>(`/v1/dashboard/segments/${enc(segmentName())}/validate`, { method: 'POST', body: input(), signal: inflight.signal })
      if (mine !== seq) return
      clearError()
      status.textContent = v.metrics.length > 0 ? `valid · keeps ${v.metrics.join(', ')}` : 'valid'
      status.className = 'rule-status ok'
    } catch (err) {
      if (mine !== seq || (err instanceof DOMException && err.name === 'AbortError')) return
      status.textContent = 'not valid'
      status.className = 'rule-status bad'
      showError(err)
    }
  }

  const schedule = () => {
    if (timer !== null) clearTimeout(timer)
    timer = setTimeout(() => void check(), CHECK_DELAY_MS)
  }
  for (const el of [name, when, keep]) el.addEventListener('input', schedule)

  form.addEventListener('submit', (ev) => {
    ev.preventDefault()
    void (async () => {
      if (name.value.trim() === '') {
        showError(new ApiError(400, 'invalid_rule', 'give the segment a name', 'name'))
        return
      }
      seq++
      save.disabled = true
      status.textContent = 'saving…'
      try {
        const saved = await api<SegmentInfo>(`/v1/segments/${enc(name.value.trim())}`, { method: 'PUT', body: input() })
        clearError()
        status.textContent = `saved ${saved.name}`
        status.className = 'rule-status ok'
        onSaved(saved)
      } catch (err) {
        status.textContent = 'not saved'
        status.className = 'rule-status bad'
        showError(err)
      } finally {
        save.disabled = false
      }
    })()
  })
  fresh.addEventListener('click', () => load(null))

  const load = (s: SegmentInfo | null) => {
    name.value = s?.name ?? ''
    when.value = s?.when ?? ''
    keep.value = s?.keep ?? ''
    description.value = s?.description ?? ''
    clearError()
    status.textContent = ''
    if (s === null) name.focus()
  }

  return {
    el: form,
    load,
    destroy() {
      if (timer !== null) clearTimeout(timer)
      inflight?.abort()
    },
  }
}

/** Puts the caret at a 1-based line and column of a textarea. */
function focusAt(area: HTMLTextAreaElement, line: number, column: number): void {
  const lines = area.value.split('\n')
  let offset = 0
  for (let i = 0; i < line - 1 && i < lines.length; i++) offset += lines[i]!.length + 1
  offset += column - 1
  area.focus()
  area.setSelectionRange(offset, offset + 1)
}
