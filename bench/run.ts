import { writeFileSync } from 'node:fs'
import { benchEngine } from './engine.bench.ts'
import { benchHttp } from './http.bench.ts'
import { benchLog } from './log.bench.ts'
import { benchWarehouse } from './warehouse.bench.ts'
import { renderReport, type Section } from './report.ts'

/** `npm run bench`: runs every benchmark in this process, one after another, and writes BENCHMARKS.md. */
const benches: Array<[string, () => Promise<Section>]> = [
  ['log', benchLog],
  ['engine', benchEngine],
  ['http', benchHttp],
  ['warehouse', benchWarehouse],
]

const only = process.argv[2]
const sections: Section[] = []
for (const [name, run] of benches) {
  if (only && only !== name) continue
  process.stderr.write(`bench: ${name}…\n`)
  const section = await run()
  for (const f of section.figures) process.stderr.write(`  ${f.name}: ${Math.round(f.value)} ${f.unit}\n`)
  sections.push(section)
}
writeFileSync('BENCHMARKS.md', renderReport(sections))
process.stderr.write('bench: wrote BENCHMARKS.md\n')
