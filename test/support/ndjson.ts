import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'

export interface TempFile {
  path: string
  dir: string
  remove(): void
}

/** Writes events as NDJSON into a fresh temp directory (gzipped when `name` ends in .gz). */
export function writeTempNdjson(events: readonly object[], name = 'events.ndjson'): TempFile {
  const dir = mkdtempSync(join(tmpdir(), 'tagstream-'))
  const path = join(dir, name)
  const text = events.map((e) => JSON.stringify(e) + '\n').join('')
  writeFileSync(path, name.endsWith('.gz') ? gzipSync(text) : text)
  return { path, dir, remove: () => rmSync(dir, { recursive: true, force: true }) }
}

/** A fresh temp directory for files a test writes itself. */
export function tempDir(): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'tagstream-'))
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) }
}
