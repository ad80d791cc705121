import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { replayFile } from '../../src/cli/replay.ts'
import type { Notification, SegmentChange } from '../../src/engine/records.ts'
import { partitionFor } from '../../src/events/index.ts'
import { tempDir } from '../support/ndjson.ts'
import { CLI_TIMEOUT_MS, RULES, runCli, summaryOf, workload, writeLines } from './replay-cli.ts'

type SegmentLine = SegmentChange & { type: 'segment' }
type NotificationLine = Notification & { type: 'notification' }
type Line = SegmentLine | NotificationLine

const PARTITIONS = 4
const parse = (text: string): Line[] =>
  text
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as Line)

describe('tagstream replay --changes', { timeout: CLI_TIMEOUT_MS }, () => {
  const tmp = tempDir()
  afterAll(() => tmp.remove())
  const rules = join(tmp.dir, 'rules.yaml')
  writeFileSync(rules, RULES)
  const input = writeLines(join(tmp.dir, 'events.ndjson'), workload())

  it('writes every change and notification; folding the changes gives the printed members', async () => {
    const path = join(tmp.dir, 'changes.ndjson')
    const r = await replayFile(input, rules, { partitions: PARTITIONS, changes: path })
    const lines = parse(readFileSync(path, 'utf8'))
    const segments = lines.filter((l): l is SegmentLine => l.type === 'segment')
    const notifications = lines.filter((l): l is NotificationLine => l.type === 'notification')
    expect(segments.length).toBe(r.segmentChanges)
    expect(notifications.length).toBe(r.notifications)
    // Both segments see users come and go: a stream of entries alone would prove little.
    expect(segments.some((c) => c.segment === 'busy' && c.change === 'exited')).toBe(true)
    expect(segments.some((c) => c.segment === 'buyer' && c.change === 'entered')).toBe(true)

    const members = new Map<string, Set<string>>(Object.keys(r.members).map((s) => [s, new Set()]))
    for (const c of segments) {
      const set = members.get(c.segment)!
      // A user enters only from outside and exits only from inside.
      expect(set.has(c.user_id)).toBe(c.change === 'exited')
      if (c.change === 'entered') set.add(c.user_id)
      else set.delete(c.user_id)
      expect(c.at).toBeLessThanOrEqual(r.asOf!)
      expect(Object.keys(c.values).length).toBeGreaterThan(0)
    }
    for (const [segment, ids] of members) expect([...ids].sort()).toEqual([...r.members[segment]!].sort())
  })

  it('keeps the produced order: versions 1, 2, 3… per user, times never going back in a partition, triggers in file order', async () => {
    const path = join(tmp.dir, 'order.ndjson')
    await replayFile(input, rules, { partitions: PARTITIONS, changes: path })
    const lines = parse(readFileSync(path, 'utf8'))
    const versions = new Map<string, number>()
    const clocks = new Map<number, number>()
    for (const l of lines) {
      const p = partitionFor(`${l.tenant}:${l.user_id}`, PARTITIONS)
      expect(l.at).toBeGreaterThanOrEqual(clocks.get(p) ?? 0)
      clocks.set(p, l.at)
      if (l.type !== 'segment') continue
      const v = (versions.get(l.user_id) ?? 0) + 1
      expect(l.version).toBe(v)
      versions.set(l.user_id, v)
    }
    // add_to_cart events carry no id, so theirs is `line-N`: the stream has them in file order.
    const lineNumbers = lines.filter((l): l is NotificationLine => l.type === 'notification').map((n) => Number(n.event_id.replace('line-', '')))
    expect(lineNumbers.length).toBeGreaterThan(10)
    expect(lineNumbers).toEqual([...lineNumbers].sort((a, b) => a - b))
  })

  it('with "-" streams the same NDJSON on stdout and moves the summary to stderr', async () => {
    const path = join(tmp.dir, 'cli.ndjson')
    const base = ['--partitions', String(PARTITIONS), 'replay', '--input', input, '--segments', rules]
    const [toFile, toStdout] = await Promise.all([runCli([...base, '--changes', path]), runCli([...base, '--changes', '-'])])
    expect(toFile.code).toBe(0)
    expect(toStdout.code).toBe(0)
    expect(toStdout.stdout.equals(readFileSync(path))).toBe(true)
    expect(summaryOf(toStdout.stderr)).toEqual(summaryOf(toFile.stdout.toString('utf8')))
  })
})
