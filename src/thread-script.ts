import { mkdirSync, renameSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/* Worker threads' scripts, for any folder's thread entry (the engine's, the warehouse sink's). */

const here = dirname(fileURLToPath(import.meta.url))
const built = new Map<string, string>()
/** Running the compiled package (dist/, from `npm run build`): thread entries are JavaScript files beside their sources. */
const compiled = import.meta.url.endsWith('.js')

/**
 * The file a worker thread runs for a TypeScript entry: in the compiled package, its compiled
 * JavaScript (nothing to build). From source (tests, `TAGSTREAM_FROM_SOURCE=1`), a plain-JS bundle of
 * the entry built here once per process with esbuild, a development dependency (about 150 ms): a
 * worker that loads TypeScript through a loader hook can deadlock on Node 20's synchronous hook
 * channel, and a bundle needs no hook. Dependencies stay external and resolve from node_modules.
 */
export function threadScript(entry: string, name: string): string {
  if (compiled) return entry.replace(/\.ts$/, '.js')
  const cached = built.get(name)
  if (cached) return cached
  const root = join(here, '..')
  const outDir = join(root, 'node_modules', '.cache', 'tagstream')
  mkdirSync(outDir, { recursive: true })
  const out = join(outDir, `${name}.mjs`)
  const tmp = join(outDir, `${name}.${process.pid}.${Date.now()}.mjs`)
  // Required here, not imported at the top: the compiled package runs without esbuild installed.
  const { buildSync } = createRequire(import.meta.url)('esbuild') as typeof import('esbuild')
  buildSync({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    outfile: tmp,
    sourcemap: 'inline',
    logLevel: 'error',
  })
  // Renamed into place, so concurrent servers never load a half-written file.
  renameSync(tmp, out)
  built.set(name, out)
  return out
}
