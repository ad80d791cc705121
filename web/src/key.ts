/**
 * The API key: taken once from the URL fragment (`/#key=…`, which never reaches the server or its
 * logs), then kept in localStorage and removed from the address bar.
 */
const STORAGE = 'tagstream.key'

export function takeKeyFromFragment(): void {
  const m = /(?:^#|[#&])key=([^&]+)/.exec(location.hash)
  if (!m) return
  setKey(decodeURIComponent(m[1]!))
  history.replaceState(null, '', `${location.pathname}${location.search}#/live`)
}

export function getKey(): string | null {
  try {
    return localStorage.getItem(STORAGE)
  } catch {
    return null
  }
}

export function setKey(key: string): void {
  localStorage.setItem(STORAGE, key.trim())
}

export function clearKey(): void {
  localStorage.removeItem(STORAGE)
}
