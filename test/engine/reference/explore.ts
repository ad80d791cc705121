/**
 * Development aid, not a test: `npx tsx test/engine/reference/explore.ts [from] [to]` runs the
 * generated workloads of seeds [from, to), groups the disagreements by stream and prints the shrunk
 * repro of the first few.
 */
import { check, report, shrink } from './diff.ts'
import { generate } from './generate.ts'
import { partitionOf } from './run.ts'

const from = Number(process.argv[2] ?? 0)
const to = Number(process.argv[3] ?? from + 300)
const show = Number(process.argv[4] ?? 3)
const started = performance.now()
const failures: Array<{ seed: number; stream: string }> = []
let shown = 0
for (let seed = from; seed < to; seed++) {
  const w = generate(seed)
  const m = check(w)
  if (m === null) continue
  failures.push({ seed, stream: m.stream })
  if (shown++ < show) {
    const small = shrink(w, m)
    const sm = check(small) ?? m
    console.log(report(w, small, sm, (i) => (i.kind === 'event' ? partitionOf(i.event, small.partitions) : null)))
    console.log('')
  }
}
const byStream = new Map<string, number[]>()
for (const f of failures) byStream.set(f.stream, [...(byStream.get(f.stream) ?? []), f.seed])
console.log(`${failures.length} of ${to - from} workloads disagree (${Math.round(performance.now() - started)} ms)`)
for (const [stream, seeds] of byStream) console.log(`  ${stream}: ${seeds.length} (seeds ${seeds.slice(0, 12).join(', ')}${seeds.length > 12 ? ', …' : ''})`)
