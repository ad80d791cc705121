import { getKey } from './key.ts'

/** An error answer of the API: `{"error": {code, message, field?, line?, column?}}`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
    readonly line?: number,
    readonly column?: number,
  ) {
    super(message)
    this.name = 'ApiError'
  }
}

/** Called when the server refuses the key, so the app can ask for another. */
let onUnauthorized: (err: ApiError) => void = () => undefined

export function whenUnauthorized(fn: (err: ApiError) => void): void {
  onUnauthorized = fn
}

export function authHeaders(): Record<string, string> {
  const key = getKey()
  return key === null ? {} : { authorization: `Bearer ${key}` }
}

export async function api<T>(path: string, init: { method?: string; body?: unknown; signal?: AbortSignal } = {}): Promise<T> {
  const headers: Record<string, string> = { ...authHeaders(), accept: 'application/json' }
  if (init.body !== undefined) headers['content-type'] = 'application/json'
  const res = await fetch(path, {
    method: init.method ?? 'GET',
    headers,
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    ...(init.signal === undefined ? {} : { signal: init.signal }),
  })
  if (res.ok) return (await res.json()) as T
  throw await errorOf(res)
}

export async function errorOf(res: Response): Promise<ApiError> {
  let err: ApiError
  try {
    const body = (await res.json()) as { error?: { code?: string; message?: string; field?: string; line?: number; column?: number } }
    const e = body.error ?? {}
    err = new ApiError(res.status, e.code ?? 'error', e.message ?? `${res.status} ${res.statusText}`, e.field, e.line, e.column)
  } catch {
    err = new ApiError(res.status, 'error', `${res.status} ${res.statusText}`)
  }
  if (res.status === 401) onUnauthorized(err)
  return err
}

export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

export const enc = encodeURIComponent
