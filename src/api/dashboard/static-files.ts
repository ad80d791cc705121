import { existsSync } from 'node:fs'
import { readFile, stat } from 'node:fs/promises'
import { extname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'

/** Where `npm run build:web` writes the bundle: web/dist at the package root. */
export const DEFAULT_WEB_DIR = resolve(fileURLToPath(new URL('../../../web/dist', import.meta.url)))

/** The bundle's directory: the configured one (TAGSTREAM_WEB_DIR, a dashboard built elsewhere), else web/dist. */
export function webDir(configured: string | null): string {
  return configured ?? DEFAULT_WEB_DIR
}

export function bundleExists(dir: string): boolean {
  return existsSync(join(dir, 'index.html'))
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
}

export function contentType(file: string): string {
  return CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream'
}

/** Asset names as Vite writes them (`index-B2x9Qa1c.js`): no slashes, no dot-dot, nothing hidden. */
const ASSET_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]*(\.[A-Za-z0-9_-]+)+$/

export function isAssetName(name: string): boolean {
  return name.length <= 200 && ASSET_NAME.test(name)
}

export interface StaticFile {
  body: Buffer
  /** The same bytes gzipped, when that is smaller (text files). */
  gzip: Buffer | null
  etag: string
  type: string
}

/** Text compresses; images and fonts are compressed already. */
const COMPRESSIBLE = /^(text\/|application\/json|image\/svg)/

/**
 * Reads files of the bundle, keeping each in memory (with its gzip) until its size or mtime
 * changes: a rebuilt bundle is served at once, an unchanged one is read from disk only once.
 */
export class StaticFiles {
  private readonly cache = new Map<string, { key: string; file: StaticFile }>()

  constructor(readonly root: string) {}

  /** `rel` must already be checked (isAssetName or a fixed name); null when the file does not exist. */
  async get(rel: string): Promise<StaticFile | null> {
    const path = join(this.root, rel)
    let info
    try {
      info = await stat(path)
    } catch {
      return null
    }
    if (!info.isFile()) return null
    const key = `${info.size.toString(36)}-${Math.floor(info.mtimeMs).toString(36)}`
    const hit = this.cache.get(rel)
    if (hit?.key === key) return hit.file
    const body = await readFile(path)
    const type = contentType(rel)
    const zipped = COMPRESSIBLE.test(type) && body.length > 256 ? gzipSync(body) : null
    const file: StaticFile = { body, gzip: zipped !== null && zipped.length < body.length ? zipped : null, etag: `W/"${key}"`, type }
    this.cache.set(rel, { key, file })
    return file
  }
}

/** Whether an Accept-Encoding header admits gzip (`gzip;q=0` refuses it). */
export function acceptsGzip(header: string | undefined): boolean {
  if (header === undefined) return false
  for (const part of header.split(',')) {
    const [name, ...params] = part.trim().split(';')
    if (name?.trim().toLowerCase() !== 'gzip') continue
    const q = params.map((p) => /^\s*q=([0-9.]+)\s*$/.exec(p)).find((m) => m !== null)
    return q === undefined || Number(q[1]) > 0
  }
  return false
}
