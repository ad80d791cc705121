import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'

const ROOT = resolve(import.meta.dirname, '..', '..')
const DIST = join(ROOT, 'dist')

describe('the compiled package (dist/, built before the tests)', () => {
  it('runs `tagstream --help` from dist/ and lists every command', () => {
    // bin/tagstream.mjs takes tsx only when dist/ lacks the CLI: with it there, this run is the compiled one.
    expect(existsSync(join(DIST, 'cli', 'main.js'))).toBe(true)
    const out = execFileSync(process.execPath, [join(ROOT, 'bin', 'tagstream.mjs'), '--help'], { encoding: 'utf8' })
    for (const cmd of ['demo', 'serve', 'ingest', 'replay', 'warehouse', 'query', 'report', 'worker', 'simulate']) expect(out).toContain(`\n  ${cmd}`)
  })

  it('gives worker threads their compiled entry files, with no bundling', async () => {
    const { engineThreadScript } = (await import(join(DIST, 'engine', 'thread', 'bundle.js'))) as typeof import('../../src/engine/thread/bundle.ts')
    const { threadScript } = (await import(join(DIST, 'thread-script.js'))) as typeof import('../../src/thread-script.ts')
    expect(engineThreadScript()).toBe(join(DIST, 'engine', 'thread', 'engine-thread.js'))
    const sink = threadScript(join(DIST, 'warehouse', 'thread', 'sink-thread.ts'), 'sink-thread')
    expect(sink).toBe(join(DIST, 'warehouse', 'thread', 'sink-thread.js'))
    expect(existsSync(sink)).toBe(true)
  })

  it('loads no TypeScript at run time: the CLI module and its static imports are JavaScript', () => {
    // A module that imported a `.ts` path would fail on a machine without tsx; tsc rewrites them.
    const script = `const m = await import(${JSON.stringify(join(DIST, 'cli', 'main.js'))}); console.log(typeof m.buildProgram)`
    expect(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' }).trim()).toBe('function')
  })
})
