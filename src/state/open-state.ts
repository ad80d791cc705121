import { resolve } from 'node:path'
import type { Logger } from '../logger.ts'
import { EmbeddedStateStore } from './embedded/state-store.ts'
import type { StateStore } from './state-store.ts'

/** True for URLs that name a Postgres server rather than a directory. */
export function isPostgresUrl(url: string): boolean {
  return url.startsWith('postgres://') || url.startsWith('postgresql://')
}

/**
 * Chooses the adapter by URL: a path or file: URL opens the embedded store (the default),
 * postgres:// or postgresql:// a Postgres database (tables created on open, see docs/postgres.md).
 */
export async function openStateStore(url: string, options: { logger?: Logger } = {}): Promise<StateStore> {
  if (isPostgresUrl(url)) {
    // Loaded only for a Postgres URL: embedded commands and servers do not pay for the client's load.
    const { PostgresStateStore } = await import('./postgres/state-store.ts')
    return PostgresStateStore.open(url, options)
  }
  return EmbeddedStateStore.open(resolve(stateDirectory(url)))
}

/** The directory a non-Postgres state URL names (a path, file:path or file:///path); throws on another scheme. */
export function stateDirectory(url: string): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url) && !url.startsWith('file://')) {
    throw new Error(`unsupported state URL scheme in "${url.slice(0, url.indexOf('://'))}://…"; use a directory path, file:, or postgres://`)
  }
  return url.startsWith('file://') ? new URL(url).pathname : url.startsWith('file:') ? url.slice(5) : url
}
