import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'
import { useTestServer } from './harness.ts'
import { fetchDocument } from './openapi-document.ts'

const run = promisify(execFile)
const REDOCLY = fileURLToPath(new URL('../../node_modules/.bin/redocly', import.meta.url))

interface LintTotals {
  totals: { errors: number; warnings: number; ignored: number }
  problems: Array<{ ruleId: string; severity: string; message: string; location?: Array<{ pointer?: string }> }>
}

describe('the OpenAPI document', () => {
  const s = useTestServer()
  const dir = mkdtempSync(join(tmpdir(), 'tagstream-openapi-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('passes redocly lint (recommended rules) with no errors and no warnings', async () => {
    const file = join(dir, 'openapi.json')
    writeFileSync(file, JSON.stringify(await fetchDocument(s.url)))
    // Offline and quiet: no telemetry, no update check (REDOCLY_*); the recommended rule set, no config file.
    const env = { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', NO_COLOR: '1' }
    let stdout: string
    try {
      ;({ stdout } = await run(REDOCLY, ['lint', '--format=json', file], { env, timeout: 90_000, maxBuffer: 64 * 1024 * 1024 }))
    } catch (err) {
      // redocly exits 1 on errors; its JSON report is still on stdout.
      stdout = (err as { stdout?: string }).stdout ?? ''
      if (stdout === '') throw err
    }
    const report = JSON.parse(stdout.slice(stdout.indexOf('{'))) as LintTotals
    const problems = report.problems.map((p) => `${p.severity} ${p.ruleId}: ${p.message} at ${p.location?.[0]?.pointer ?? '?'}`)
    expect(problems).toEqual([])
    expect(report.totals).toMatchObject({ errors: 0, warnings: 0 })
  }, 120_000)
})
