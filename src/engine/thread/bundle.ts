import { mkdirSync, renameSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { buildSync } from 'esbuild'

const here = dirname(fileURLToPath(import.meta.url))
const built = new Map<string, string>()

/**
 * The engine thread runs from a plain-JS bundle of its sources, built here once per process
 * (about 150 ms). A worker that loads TypeScript through a loader hook can deadlock on Node 20's
 * synchronous hook channel; a bundle needs no hook, and it also skips tsx's per-closure naming.
 * Dependencies stay external and resolve from the project's node_modules.
 */
export function engineThreadScript(): string {
  return threadScript(join(here, 'engine-thread.ts'), 'engine-thread')
}

/** The same for any worker-thread entry file (the warehouse sink's, for one). */
export function threadScript(entry: string, name: string): string {
  const cached = built.get(name)
  if (cached) return cached
  const root = join(here, '..', '..', '..')
  const outDir = join(root, 'node_modules', '.cache', 'tagstream')
  mkdirSync(outDir, { recursive: true })
  const out = join(outDir, `${name}.mjs`)
  const tmp = join(outDir, `${name}.${process.pid}.${Date.now()}.mjs`)
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
