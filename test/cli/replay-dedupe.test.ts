import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { replayFile } from '../../src/cli/replay.ts'
import { SeenIds } from '../../src/engine/replay-ids.ts'
import { tempDir } from '../support/ndjson.ts'
import { CLI_TIMEOUT_MS, RULES, runCli, summaryOf, workload, writeLines } from './replay-cli.ts'

const T = Date.UTC(2026, 10, 1, 10, 0)

describe('tagstream replay counts a repeated event_id once', { timeout: CLI_TIMEOUT_MS }, () => {
  const tmp = tempDir()
  afterAll(() => tmp.remove())
  const rules = join(tmp.dir, 'rules.yaml')
  writeFileSync(rules, RULES)
  let n = 0
  const file = (lines: ReadonlyArray<object | string>) => writeLines(join(tmp.dir, `events-${n++}.ndjson`), lines)
  const replay = (path: string, dedupeIds?: number) => replayFile(path, rules, { partitions: 4, ...(dedupeIds === undefined ? {} : { dedupeIds }) })

  it('gives the result of the file without its repeats, and counts them', async () => {
    const events = workload()
    const withId = events.filter((e) => e.event_id !== undefined)
    // Retries right after the original, retries at the end of the file, and one whose body changed:
    // the key is (tenant, event_id) alone, as at the collector.
    const repeated = [...events.flatMap((e, i) => (e.event_id !== undefined && i % 2 === 0 ? [e, e] : [e])), ...withId.slice(0, 20), { ...withId[0], amount: 1000 }]
    const copies = repeated.length - events.length
    const [clean, dup] = await Promise.all([replay(file(events)), replay(file(repeated))])
    expect(copies).toBeGreaterThan(40)
    expect(dup.duplicates).toBe(copies)
    expect(clean.duplicates).toBe(0)
    expect(dup.events).toBe(clean.events)
    expect(dup.members).toEqual(clean.members)
    expect(dup.segmentChanges).toBe(clean.segmentChanges)
    expect(dup.notifications).toBe(clean.notifications)
    // --dedupe-ids 0: every line counts.
    const off = await replay(file(repeated), 0)
    expect(off.duplicates).toBe(0)
    expect(off.events).toBe(repeated.length)
  })

  it('never takes ids made from line numbers for duplicates, nor repeats without an event_id', async () => {
    const spin = { event: 'spin', user_id: '1', ts: T }
    // Line 1 carries the id that line 2 is given, as `line-2`; lines 2 and 3 are the same event, with no id.
    const r = await replay(file([{ ...spin, event_id: 'line-2' }, spin, spin]))
    expect(r.duplicates).toBe(0)
    expect(r.events).toBe(3)
  })

  it('lets a rejected event not claim its id, and keys ids per tenant', async () => {
    const r = await replay(
      file([
        { event: 'spin', user_id: '1', ts: 'yesterday', event_id: 'a' },
        { event: 'spin', user_id: '1', ts: T, event_id: 'a' },
      ]),
    )
    expect(r.rejected).toBe(1)
    expect(r.duplicates).toBe(0)
    expect(r.events).toBe(1)
    // A file's events are all the default tenant's; the key itself is tenant-scoped.
    const seen = new SeenIds(10)
    expect(seen.firstTime('t1', 'x')).toBe(true)
    expect(seen.firstTime('t2', 'x')).toBe(true)
    expect(seen.firstTime('t1', 'x')).toBe(false)
    // Length-prefixed keys: "a:b" + "c" is not "a" + "b:c".
    expect(seen.firstTime('a:b', 'c')).toBe(true)
    expect(seen.firstTime('a', 'b:c')).toBe(true)
  })

  it('remembers at most the last N ids, forgetting the oldest first', () => {
    const seen = new SeenIds(3)
    for (const id of ['a', 'b', 'c']) expect(seen.firstTime('default', id)).toBe(true)
    expect(seen.firstTime('default', 'a')).toBe(false)
    expect(seen.firstTime('default', 'd')).toBe(true)
    expect(seen.size).toBe(3)
    // 'a' was the oldest: forgotten, so it counts again (and 'b' goes in its turn).
    expect(seen.firstTime('default', 'a')).toBe(true)
    expect(seen.firstTime('default', 'c')).toBe(false)
    expect(seen.firstTime('default', 'b')).toBe(true)
    expect(seen.size).toBe(3)
  })

  it('prints the count in the summary (and --dedupe-ids sets the bound)', async () => {
    const spin = { event: 'spin', user_id: '1', ts: T, event_id: 'x' }
    const path = file([spin, spin, { ...spin, event_id: 'y' }, spin])
    const [on, off] = await Promise.all([runCli(['replay', '--input', path, '--segments', rules]), runCli(['replay', '--input', path, '--segments', rules, '--dedupe-ids', '0'])])
    expect(on.code).toBe(0)
    expect(summaryOf(on.stdout.toString('utf8'))).toMatchObject({ events: 2, duplicates: 2 })
    expect(summaryOf(off.stdout.toString('utf8'))).toMatchObject({ events: 4, duplicates: 0 })
  })
})
