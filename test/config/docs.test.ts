import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { describe, expect, it } from 'vitest'
import { defaultConfig } from '../../src/api/config.ts'
import { buildProgram } from '../../src/cli/main.ts'
import { configurationMarkdown, DOCS_BEGIN, DOCS_END } from '../../src/config/docs-table.ts'
import { ALL_SETTINGS, SETTINGS } from '../../src/config/settings.ts'
import { DEFAULT_WORKER_OPTIONS } from '../../src/engine/partition-worker.ts'
import { DEFAULT_PARTITIONS } from '../../src/log/event-log.ts'
import { DEFAULT_TIMING } from '../../src/worker/timing.ts'

const ROOT = join(import.meta.dirname, '..', '..')

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []))
}

describe('docs/configuration.md', () => {
  it('holds the tables generated from the settings table and the commander program (run `npx tsx scripts/config-docs.ts` after a change)', () => {
    const page = readFileSync(join(ROOT, 'docs/configuration.md'), 'utf8')
    const begin = page.indexOf(DOCS_BEGIN)
    const end = page.indexOf(DOCS_END)
    expect(begin).toBeGreaterThan(0)
    expect(page.slice(begin, end + DOCS_END.length + 1)).toBe(configurationMarkdown(buildProgram()))
  })

  it('is linked from the README', () => {
    expect(readFileSync(join(ROOT, 'README.md'), 'utf8')).toContain('(docs/configuration.md)')
  })
})

describe('the settings table', () => {
  it('documents the defaults the code applies', () => {
    const server = defaultConfig()
    const shown = (s: { defaultText: string }) => s.defaultText
    expect(shown(SETTINGS.partitions)).toBe(String(DEFAULT_PARTITIONS))
    expect(shown(SETTINGS.host)).toBe(server.host)
    expect(shown(SETTINGS.port)).toBe(String(server.port))
    expect(shown(SETTINGS.retentionDays)).toBe(String(server.retentionDays))
    expect(shown(SETTINGS.clockTickMs)).toBe(String(server.clockTickMs))
    expect(shown(SETTINGS.clockTickMs)).toBe(String(DEFAULT_WORKER_OPTIONS.clockTickMs))
    expect(shown(SETTINGS.sseHeartbeatMs)).toBe(String(server.sseHeartbeatMs))
    expect(shown(SETTINGS.collectorFastPath)).toBe(server.collectorFastPath ? 'on' : 'off')
    expect(shown(SETTINGS.engine)).toBe(server.engine ? 'on' : 'off')
    expect(shown(SETTINGS.heartbeatMs)).toBe(String(DEFAULT_TIMING.heartbeatMs))
    expect(shown(SETTINGS.leaseMs)).toBe(String(DEFAULT_TIMING.leaseMs))
    expect(shown(SETTINGS.appendMarginMs)).toBe(String(DEFAULT_TIMING.appendMarginMs))
    expect(shown(SETTINGS.checkpointMs)).toBe(String(DEFAULT_WORKER_OPTIONS.checkpointIntervalMs))
    expect(shown(SETTINGS.batchSize)).toBe(String(DEFAULT_WORKER_OPTIONS.batchSize))
  })

  it('names each variable once, and each flag it lists is a flag of the CLI', () => {
    const names = ALL_SETTINGS.map((s) => s.env)
    expect(new Set(names).size).toBe(names.length)
    const program = buildProgram()
    const all = [program, ...program.commands.flatMap((c) => [c, ...c.commands])].flatMap((c) => c.options.map((o) => o.flags))
    for (const s of ALL_SETTINGS) if (s.flag !== undefined) expect(all, s.env).toContain(s.flag)
  })

  it('is the only place src/ reads the environment, and lists every TAGSTREAM_* variable src/ mentions', () => {
    const known = new Set(ALL_SETTINGS.map((s) => s.env))
    for (const file of sourceFiles(join(ROOT, 'src'))) {
      const rel = relative(ROOT, file)
      const text = readFileSync(file, 'utf8')
      if (rel !== join('src', 'config', 'read-setting.ts')) expect(text.includes('process.env'), `${rel} reads process.env`).toBe(false)
      for (const [name] of text.matchAll(/TAGSTREAM_[A-Z_]+[A-Z]/g)) expect(known.has(name), `${rel} mentions ${name}, which src/config/settings.ts does not list`).toBe(true)
    }
  })
})
