import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { afterAll, describe, expect, it } from 'vitest'
import { replayFile, type ReplayCliResult } from '../../src/cli/replay.ts'
import { engineOptions } from '../../src/engine/engine-options.ts'
import { prepareRules } from '../../src/engine/engine-rules.ts'
import { changeLine, notificationLine } from '../../src/engine/replay/engine-side.ts'
import { Replay, type ReplayResult } from '../../src/engine/replay.ts'
import { parseRulesYaml } from '../../src/rules/index.ts'
import { line, rng, T0 } from '../ingest/fast-path-bodies.ts'
import { tempDir } from '../support/ndjson.ts'

/*
 * `tagstream replay` reads lines with the collector's byte-level reader and applies them in a thread
 * of its own, partition by partition while partitions are independent. The reference here is the
 * replay as it was before: the whole file decoded as UTF-8, split into lines, each JSON.parse'd and
 * pushed in file order through one Replay. Results, rejections with their line numbers and the
 * --changes stream must be the same, on generated files of every awkward line the collector's tests
 * know, larger than a read chunk (1 MiB).
 */

const RULES = `segments:
  busy:
    when: count(spin, 10m) >= 3
  rich:
    when: sum(spin.bet, 1h) > 40
  seen:
    when: since(last_seen) < 30m
triggers:
  big_bet:
    on: spin
    when: count(spin, 1m) >= 2
`
const PARTITIONS = 5
/** How a replay whose partitions are split between the reading thread and the engine thread says it ran. */
const SPLIT = 'split with an engine thread'

/** The replay before the byte-level reader, line by line. */
function reference(bytes: Buffer, rulesPath: string, lateness = 0): { result: ReplayResult; changes: string[] } {
  const options = engineOptions({ allowedLatenessMs: lateness })
  const replay = new Replay(prepareRules(parseRulesYaml(readFileSync(rulesPath, 'utf8'), rulesPath), options), options, PARTITIONS, null)
  const changes: string[] = []
  replay.onChange = (c) => changes.push(changeLine(c))
  replay.onNotification = (n) => changes.push(notificationLine(n))
  const lines = bytes.toString('utf8').split('\n')
  if (lines.at(-1) === '') lines.pop()
  lines.forEach((raw, i) => {
    const text = raw.endsWith('\r') ? raw.slice(0, -1) : raw
    if (text.length === 0 || (text.charCodeAt(0) <= 32 && text.trim() === '')) return
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch (err) {
      replay.reject(i + 1, `invalid JSON: ${(err as Error).message}`)
      return
    }
    replay.push(parsed, i + 1)
  })
  return { result: replay.finish(), changes }
}

/** A file of generated lines; `identity` false leaves out every line naming a second id (anonymous_id, alias). */
function generate(seed: number, lines: number, identity: boolean | 'late'): Buffer {
  const r = rng(seed)
  const used: string[] = []
  const out: Buffer[] = []
  for (let i = 0; i < lines; i++) {
    let l = line(r, used, T0)
    if (identity !== true) while (l.includes('anonymous_id') || l.includes('alias')) l = line(r, used, T0)
    // Plain events between the awkward ones, so segments fill, plus a few multibyte characters
    // long enough that some straddle a read chunk's boundary.
    if (r() < 0.6)
      l = Buffer.from(`{"event":"spin","user_id":"u${Math.floor(r() * 40)}","ts":${T0 + Math.floor(r() * 7_200_000)},"bet":${Math.floor(r() * 100)},"note":"${'é'.repeat(Math.floor(r() * 300))}"}`)
    // 'late': one alias near the end, after many chunks applied with the partitions split.
    if (identity === 'late' && i === lines - 100) l = Buffer.from(`{"event":"alias","user_id":"u1","previous_id":"u2","ts":${T0 + 3_600_000}}`)
    out.push(l, Buffer.from('\n'))
  }
  return Buffer.concat(out)
}

function strip(r: ReplayCliResult): ReplayResult {
  const { seconds: _s, eventsPerSecond: _e, engines: _n, ...rest } = r
  return rest
}

describe('tagstream replay reads lines byte by byte, with the results of a line-by-line replay', () => {
  const tmp = tempDir()
  afterAll(() => tmp.remove())
  const rules = join(tmp.dir, 'rules.yaml')
  writeFileSync(rules, RULES)

  const cases = [
    { name: 'with identity events (applied in file order)', seed: 11, identity: true },
    { name: 'without them (applied partition by partition)', seed: 12, identity: false },
    { name: 'with one alias near the end (split, then read again on one engine)', seed: 13, identity: 'late' as const },
  ]
  for (const c of cases) {
    it(`${c.name}: same result, rejections and --changes, in a thread and not, plain and gzipped`, async () => {
      const bytes = generate(c.seed, 12_000, c.identity)
      expect(bytes.length).toBeGreaterThan(2 << 20)
      const input = join(tmp.dir, `${c.seed}.ndjson`)
      writeFileSync(input, bytes)
      writeFileSync(`${input}.gz`, gzipSync(bytes))
      const want = reference(bytes, rules)
      // The generator must reach both sides: accepted events, rejections of every kind, duplicates, changes.
      expect(want.result.events).toBeGreaterThan(7_000)
      expect(want.result.rejected).toBeGreaterThan(300)
      expect(want.result.duplicates).toBeGreaterThan(10)
      expect(want.changes.length).toBeGreaterThan(100)
      for (const thread of [true, false]) {
        for (const path of [input, `${input}.gz`]) {
          const changes = join(tmp.dir, `changes-${c.seed}-${thread}.ndjson`)
          const withChanges = await replayFile(path, rules, { partitions: PARTITIONS, thread, changes })
          expect(strip(withChanges)).toEqual(want.result)
          expect(withChanges.engines).toBe(thread ? 'engine thread' : 'one thread')
          expect(readFileSync(changes, 'utf8')).toBe(want.changes.map((l) => l + '\n').join(''))
          // Without listeners the batches go partition by partition (when no id links partitions), and
          // with a thread, a file's partitions (plain or gzipped) are split between this thread and the
          // engine thread until one does; the engine thread reads chunks too (alternateReads: every other
          // one, whatever the timing).
          for (const alternateReads of thread ? [false, true] : [false]) {
            const plain = await replayFile(path, rules, { partitions: PARTITIONS, thread, alternateReads })
            expect(strip(plain)).toEqual(want.result)
            expect(plain.engines).toBe(!thread ? 'one thread' : c.identity !== false ? `${SPLIT}, then engine thread` : SPLIT)
          }
        }
      }
    }, 240_000)
  }

  it("writes a batch's memory again only when the engines kept none of its events (with lateness, held events read it later)", async () => {
    // In time order with 20 minutes of lateness: most events wait for the watermark across several
    // batches, then a rule reads their bet from the batch they came in; the plain spins in between
    // are applied at once, so other batches are written again.
    const lines: string[] = []
    for (let i = 0; i < 30_000; i++) {
      const ts = T0 + i * 400 - (i % 7 === 0 ? 0 : 1_500_000)
      lines.push(`{"event":"spin","user_id":"u${i % 40}","ts":${ts},"bet":${i % 100},"note":"${'n'.repeat(60 + (i % 90))}"}`)
    }
    const bytes = Buffer.from(lines.join('\n') + '\n')
    expect(bytes.length).toBeGreaterThan(4 << 20)
    const input = join(tmp.dir, 'held.ndjson')
    writeFileSync(input, bytes)
    const lateness = 1_200_000
    const want = reference(bytes, rules, lateness)
    expect(want.changes.length).toBeGreaterThan(100)
    for (const thread of [true, false]) {
      const changes = join(tmp.dir, `held-changes-${thread}.ndjson`)
      const withChanges = await replayFile(input, rules, { partitions: PARTITIONS, thread, changes, engine: { allowedLatenessMs: lateness } })
      expect(strip(withChanges)).toEqual(want.result)
      expect(readFileSync(changes, 'utf8')).toBe(want.changes.map((l) => l + '\n').join(''))
      for (const alternateReads of thread ? [false, true] : [false]) {
        const plain = await replayFile(input, rules, { partitions: PARTITIONS, thread, alternateReads, engine: { allowedLatenessMs: lateness } })
        expect(strip(plain)).toEqual(want.result)
        expect(plain.engines).toBe(thread ? SPLIT : 'one thread')
      }
    }
  }, 120_000)

  it('keeps a multibyte character split between two reads whole, and numbers the lines after it', async () => {
    // Lines of 'é' (two bytes each) until the first 1 MiB read ends inside one; the trigger's
    // notifications carry the text, so a character broken in two would show in --changes.
    const lines: string[] = []
    let size = 0
    for (let i = 0; size < (1 << 20) + 20_000; i++) {
      const l = `{"event":"spin","user_id":"a","ts":${T0 + i},"note":"${'é'.repeat(3000)}"}`
      lines.push(l)
      size += Buffer.byteLength(l) + 1
    }
    lines.push(`{"event":"spin","user_id":"b","ts":${T0},"bad":`, `{"event":"spin","user_id":"c","ts":${T0 + 2}}`)
    let bytes = Buffer.from(lines.join('\n') + '\n')
    // Shift by one byte when the boundary fell between two characters.
    if ((bytes[1 << 20]! & 0xc0) !== 0x80) bytes = Buffer.from(' ' + lines.join('\n') + '\n')
    expect(bytes[1 << 20]! & 0xc0).toBe(0x80)
    const input = join(tmp.dir, 'split.ndjson')
    writeFileSync(input, bytes)
    const changes = join(tmp.dir, 'split-changes.ndjson')
    const got = await replayFile(input, rules, { partitions: PARTITIONS, thread: false, changes })
    const want = reference(bytes, rules)
    expect(got.rejected).toBe(1)
    expect(got.firstErrors[0]?.line).toBe(lines.length - 1)
    expect(strip(got)).toEqual(want.result)
    const written = readFileSync(changes, 'utf8')
    expect(written).not.toContain('\ufffd')
    expect(written).toBe(want.changes.map((l) => l + '\n').join(''))
  })

  it('keeps a lone surrogate as JSON.parse read it (UTF-8 would make it U+FFFD)', async () => {
    const lines = [0, 1, 2].map((i) => `{"event":"spin","user_id":"s","ts":${T0 + i},"lone":"x\\ud800y","pair":"\\ud83d\\ude00","n":${i}}`)
    lines.push(`{"event":"spin","user_id":"s","ts":${T0 + 5},"nested":{"k":"\\udc00"}}`)
    const bytes = Buffer.from(lines.join('\n') + '\n')
    const input = join(tmp.dir, 'surrogates.ndjson')
    writeFileSync(input, bytes)
    const changes = join(tmp.dir, 'surrogates-changes.ndjson')
    const got = await replayFile(input, rules, { partitions: PARTITIONS, thread: false, changes })
    const want = reference(bytes, rules)
    expect(strip(got)).toEqual(want.result)
    const written = readFileSync(changes, 'utf8')
    expect(written).toContain('"lone":"x\\ud800y"')
    expect(written).toContain('"k":"\\udc00"')
    expect(written).toBe(want.changes.map((l) => l + '\n').join(''))
  })

  it('names an event without an event_id line-N, N its line, across every digit boundary', async () => {
    const every = join(tmp.dir, 'every.yaml')
    writeFileSync(every, 'triggers:\n  each:\n    on: spin\n')
    const lines: string[] = []
    // Blank and bad lines in between: the numbers of the events are not consecutive everywhere.
    for (let i = 1; i <= 12_000; i++) lines.push(i % 97 === 0 ? '' : i % 89 === 0 ? '{bad' : `{"event":"spin","user_id":"u${i % 50}","ts":${T0 + i}}`)
    const input = join(tmp.dir, 'every.ndjson')
    writeFileSync(input, lines.join('\n') + '\n')
    const changes = join(tmp.dir, 'every-changes.ndjson')
    await replayFile(input, every, { partitions: PARTITIONS, thread: false, changes })
    const ids = readFileSync(changes, 'utf8')
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { event_id: string }).event_id)
    const want = lines.flatMap((l, i) => (l.startsWith('{"event"') ? [`line-${i + 1}`] : []))
    expect(ids).toEqual(want)
  })

  it('stops at a line longer than 64 MiB instead of holding it (no event is that long)', async () => {
    const input = join(tmp.dir, 'long-line.ndjson')
    writeFileSync(input, `{"event":"spin","user_id":"a","ts":${T0}}\n{"event":"spin","user_id":"b","note":"${'x'.repeat(65 << 20)}`)
    await expect(replayFile(input, rules, { partitions: PARTITIONS, thread: false })).rejects.toThrow(/cannot read .*: the line at byte \d+ is longer than 64 MiB/)
  })
})
