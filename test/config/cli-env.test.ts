import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'

/*
 * Bad flags and variables through the compiled CLI, as a user meets them: exit code 2 and one line
 * on stderr naming the variable (or flag), its value and what is allowed, before anything starts.
 */

const ROOT = join(import.meta.dirname, '..', '..')
const dir = mkdtempSync(join(tmpdir(), 'tagstream-config-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

interface Run {
  code: number | null
  stdout: string
  stderr: string
}

/** `tagstream …` with these variables on top of a clean environment (no TAGSTREAM_* inherited from the test run). */
function tagstream(args: string[], vars: Record<string, string> = {}): Promise<Run> {
  const env: Record<string, string> = {}
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('TAGSTREAM_')) env[k] = v
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'tagstream.mjs'), ...args], { cwd: dir, env: { ...env, ...vars }, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()))
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()))
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })
}

describe('bad values exit with 2, naming the variable and what is allowed', () => {
  it.each([
    [['offsets'], { TAGSTREAM_PARTITIONS: 'abc' }, 'TAGSTREAM_PARTITIONS=abc: must be an integer from 1 to 1024'],
    [['offsets'], { TAGSTREAM_PARTITIONS: '0' }, 'TAGSTREAM_PARTITIONS=0: must be an integer from 1 to 1024'],
    [['offsets'], { TAGSTREAM_PARTITIONS: '1.5' }, 'TAGSTREAM_PARTITIONS=1.5: must be an integer from 1 to 1024'],
    [['serve'], { TAGSTREAM_PORT: '99999' }, 'TAGSTREAM_PORT=99999: must be a port, an integer from 0 to 65535'],
    [['serve'], { TAGSTREAM_PORT: ' ' }, 'TAGSTREAM_PORT=" ": must be a port, an integer from 0 to 65535'],
    [['serve'], { TAGSTREAM_CLOCK_TICK_MS: '1e3' }, 'TAGSTREAM_CLOCK_TICK_MS=1e3: must be a duration in milliseconds, an integer of at least 0'],
    [['serve'], { TAGSTREAM_RETENTION_DAYS: '0' }, 'TAGSTREAM_RETENTION_DAYS=0: must be an integer from 1 to 3650'],
    [['serve'], { TAGSTREAM_SSE_HEARTBEAT_MS: '0' }, 'TAGSTREAM_SSE_HEARTBEAT_MS=0: must be a duration in milliseconds, an integer of at least 1'],
    [['serve'], { TAGSTREAM_LOG_LEVEL: 'loud' }, 'TAGSTREAM_LOG_LEVEL=loud: must be one of "trace", "debug", "info", "warn", "error", "fatal", "silent"'],
    [['serve'], { TAGSTREAM_ENGINE: 'maybe' }, 'TAGSTREAM_ENGINE=maybe: must be "on" or "off" (or true/false, 1/0)'],
    [['serve'], { TAGSTREAM_COLLECTOR_FAST_PATH: 'no' }, 'TAGSTREAM_COLLECTOR_FAST_PATH=no: must be "on" or "off" (or true/false, 1/0)'],
    [['serve'], { TAGSTREAM_WEBHOOKS: '{}' }, 'TAGSTREAM_WEBHOOKS={}: must be a JSON array of {"url", "streams", "only"?}'],
    [['serve'], { TAGSTREAM_API_KEYS: 'secret-key' }, 'TAGSTREAM_API_KEYS (value hidden): API key entry "secret-key" must look like key:tenant:write+read'],
    [['worker', '--state', 'postgres://127.0.0.1:1/x'], { TAGSTREAM_HEARTBEAT_MS: '0x10' }, 'TAGSTREAM_HEARTBEAT_MS=0x10: must be a duration in milliseconds, an integer of at least 10'],
    [['demo'], { TAGSTREAM_LOG_LEVEL: 'WARN' }, 'TAGSTREAM_LOG_LEVEL=WARN: must be one of "trace", "debug", "info", "warn", "error", "fatal", "silent"'],
    [['serve', '--port', '-1'], {}, '--port -1: must be a port, an integer from 0 to 65535'],
    [['query', '--format', 'xml', 'SELECT 1'], {}, '--format xml: must be one of "table", "csv", "json"'],
  ])('tagstream %j with %j', async (args, vars, message) => {
    const r = await tagstream(['--data', join(dir, 'bad'), ...args], vars)
    expect(r.stderr).toBe(`tagstream: ${message}\n`)
    expect(r.code).toBe(2)
  })
})

describe('flags override variables', () => {
  /** The number of partitions `offsets` reports for a new log. */
  async function partitions(args: string[], vars: Record<string, string>, data: string): Promise<number> {
    const r = await tagstream(['--data', join(dir, data), ...args, 'offsets'], vars)
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    return (JSON.parse(r.stdout.split('\n')[0]!) as { partitions: unknown[] }).partitions.length
  }

  it('takes TAGSTREAM_PARTITIONS, --partitions over it (even over a bad one), and the default without either', async () => {
    expect(await partitions([], { TAGSTREAM_PARTITIONS: '3' }, 'env')).toBe(3)
    expect(await partitions(['--partitions', '2'], { TAGSTREAM_PARTITIONS: '3' }, 'flag')).toBe(2)
    expect(await partitions(['--partitions', '5'], { TAGSTREAM_PARTITIONS: 'abc' }, 'flag-over-bad')).toBe(5)
    expect(await partitions([], { TAGSTREAM_PARTITIONS: '' }, 'empty')).toBe(8)
  })

  it('takes TAGSTREAM_DATA when --data is not given', async () => {
    const r = await tagstream(['--partitions', '1', 'offsets'], { TAGSTREAM_DATA: join(dir, 'from-env') })
    expect(r.code).toBe(0)
    const again = await tagstream(['--data', join(dir, 'from-env'), 'offsets'])
    // The log made through the variable is the one --data names: it kept its 1 partition.
    expect((JSON.parse(again.stdout.split('\n')[0]!) as { partitions: unknown[] }).partitions).toHaveLength(1)
  })
})
