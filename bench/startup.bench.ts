import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { slotsStream, type RawEvent } from '../src/sim/index.ts'
import { fmt, type Section } from './report.ts'

const RUNS = 11
/** Issue 17's target for `tagstream --help`. */
const HELP_TARGET_S = 0.5
const RULES = `segments:
  spinner:
    when: count(spin, 1h) >= 50
`

/** Wall seconds of one run of `node …args`, output discarded. */
function timed(args: string[], env: Record<string, string> = {}): number {
  const t0 = performance.now()
  execFileSync(process.execPath, args, { stdio: 'ignore', env: { ...process.env, ...env } })
  return (performance.now() - t0) / 1000
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

/**
 * How long a user waits for the CLI: `tagstream --help` and a 1,000-event `tagstream replay`, run
 * as `npx tagstream` runs them (a new node process each time), against `node -e 0` (node's own
 * start) and the same commands from the TypeScript sources through tsx (TAGSTREAM_FROM_SOURCE=1:
 * how every start ran before the compiled package, with today's lazy loading). Interleaved, medians of 11.
 */
export async function benchStartup(): Promise<Section> {
  const dir = mkdtempSync(join(tmpdir(), 'tagstream-bench-startup-'))
  try {
    const input = join(dir, 'events.ndjson')
    const source = slotsStream({ users: 100, spins: 1_000 })
    const lines: string[] = []
    for (let i = 0; i < 1_000; i++) lines.push(JSON.stringify(source.next().value as RawEvent))
    writeFileSync(input, lines.join('\n') + '\n')
    const rules = join(dir, 'segments.yaml')
    writeFileSync(rules, RULES)
    const replay = ['bin/tagstream.mjs', 'replay', '--input', input, '--segments', rules]
    const fromSource = { TAGSTREAM_FROM_SOURCE: '1' }
    const runs = { node: [] as number[], help: [] as number[], replay: [] as number[], helpSource: [] as number[], replaySource: [] as number[] }
    // One of each first, untimed: the page cache and tsx's transpile cache warm, as on a user's machine.
    timed(['bin/tagstream.mjs', '--help'], fromSource)
    timed(replay, fromSource)
    for (let i = 0; i < RUNS; i++) {
      runs.node.push(timed(['-e', '0']))
      runs.help.push(timed(['bin/tagstream.mjs', '--help']))
      runs.replay.push(timed(replay))
      runs.helpSource.push(timed(['bin/tagstream.mjs', '--help'], fromSource))
      runs.replaySource.push(timed(replay, fromSource))
    }
    const node = median(runs.node)
    const help = median(runs.help)
    const ratio = (s: number) => `${fmt(s / node)}× \`node -e 0\``
    return {
      title: 'CLI start-up',
      description:
        'Wall time of a new process per command, as `npx tagstream` runs it: the compiled package (dist/, built by `npm install`) against `node -e 0` and the same commands from the TypeScript sources through tsx (`TAGSTREAM_FROM_SOURCE=1`: how every start ran before the compiled package, here with the same commands-load-when-run change, so it isolates the cost of tsx). ' +
        `\`tagstream replay\` reads 1,000 events of the slots workload with one segment. ${RUNS} runs of each, interleaved, after one untimed run of each; medians.`,
      figures: [
        { name: '`tagstream --help`', value: help, unit: 's', target: `< ${HELP_TARGET_S} s`, met: help < HELP_TARGET_S, notes: ratio(help) },
        { name: '`tagstream replay`, 1,000 events', value: median(runs.replay), unit: 's', notes: ratio(median(runs.replay)) },
        { name: 'comparison: `node -e 0`', value: node, unit: 's' },
        { name: 'comparison: `tagstream --help` from the sources (tsx)', value: median(runs.helpSource), unit: 's', notes: ratio(median(runs.helpSource)) },
        { name: 'comparison: `tagstream replay`, 1,000 events, from the sources (tsx)', value: median(runs.replaySource), unit: 's', notes: ratio(median(runs.replaySource)) },
      ],
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
