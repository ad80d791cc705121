import { Command } from 'commander'
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { registerQuery } from '../../src/cli/query.ts'
import { smallWarehouse, tempRoot } from './fixtures.ts'

let dataDir: string

beforeAll(async () => {
  dataDir = tempRoot()
  await smallWarehouse(join(dataDir, 'warehouse'))
})
afterAll(() => rmSync(dataDir, { recursive: true, force: true }))
afterEach(() => {
  vi.restoreAllMocks()
  process.exitCode = undefined
})

async function cli(...args: string[]): Promise<{ out: string; err: string; code: number | string | undefined }> {
  let out = ''
  let err = ''
  vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((out += String(s)), true))
  vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((err += String(s)), true))
  const program = new Command('tagstream').option('--data <dir>', 'data directory', 'data').exitOverride()
  registerQuery(program)
  await program.parseAsync(['node', 'tagstream', '--data', dataDir, ...args])
  const code = process.exitCode
  vi.restoreAllMocks()
  return { out, err, code }
}

describe('tagstream query / report', () => {
  it('prints an aligned table by default', async () => {
    const r = await cli('query', 'SELECT type, count(*) AS n FROM buys GROUP BY type ORDER BY type')
    expect(r.out.split('\n').slice(0, 5)).toEqual(['type    | n', '--------+--', 'charm   | 1', 'cutlass | 2', 'saber   | 1'])
    expect(r.out).toMatch(/\(3 rows, [\d.]+ ms\)/)
    expect(r.code).toBeUndefined()
  })

  it('csv and json', async () => {
    expect((await cli('query', "SELECT 'a,b' AS x, 1 AS y", '--format', 'csv')).out).toBe('x,y\n"a,b",1\n')
    const json = JSON.parse((await cli('query', 'SELECT 1 AS y', '--format', 'json')).out) as { rows: unknown }
    expect(json.rows).toEqual([[1]])
  })

  it('--warehouse overrides <data>/warehouse', async () => {
    const r = await cli('query', 'SELECT count(*) AS n FROM events', '--warehouse', join(dataDir, 'elsewhere'), '--format', 'csv')
    expect(r.out).toBe('n\n0\n')
  })

  it('errors go to stderr as "tagstream: …" with exit code 2', async () => {
    const r = await cli('query', 'DROP VIEW events')
    expect(r.err).toBe('tagstream: only SELECT and WITH queries are allowed (got DROP)\n')
    expect(r.code).toBe(2)
    const s = await cli('query', 'SELECT nope FROM events')
    expect(s.err).toMatch(/^tagstream: Binder Error: Referenced column "nope" not found/)
    expect(s.code).toBe(2)
  })

  it('report NAME, report list and unknown report', async () => {
    const r = await cli('report', 'avg_wealth_by_org', '--format', 'csv')
    expect(r.out).toBe('org,avg_wealth,joins\nmagicians,5000,1\nsoldiers,2875,2\n')
    const w = await cli('report', 'wealth_distribution', '--param', 'width=1000', '--format', 'csv')
    expect(w.out).toBe('min_wealth,below,players\n0,1000,2\n5000,6000,1\n')
    expect((await cli('report')).out).toMatch(/^popular_events +Seed 002/)
    const u = await cli('report', 'nope')
    expect(u.err).toMatch(/^tagstream: no report "nope"/)
    expect(u.code).toBe(2)
  })
})
