import { mkdirSync, writeFileSync } from 'node:fs'
import { benchBackfill } from './backfill.bench.ts'
import { benchBulk } from './bulk.bench.ts'
import { benchErase } from './erase.bench.ts'
import { benchE2e } from './e2e.bench.ts'
import { benchEngine } from './engine.bench.ts'
import { benchEventsFormat } from './events-format.bench.ts'
import { benchHttp } from './http.bench.ts'
import { benchSegment } from './segment.bench.ts'
import { benchIdentity } from './identity.bench.ts'
import { benchKafka } from './kafka.bench.ts'
import { benchLog } from './log.bench.ts'
import { benchPostgres } from './postgres.bench.ts'
import { benchPredict } from './predict.bench.ts'
import { benchSlowBody } from './slow-body.bench.ts'
import { benchSoak } from './soak.bench.ts'
import { benchStartup } from './startup.bench.ts'
import { benchWarehouse } from './warehouse.bench.ts'
import { benchWorker } from './worker.bench.ts'
import { leaseBroker, type BrokerLease } from '../scripts/kafka/lease.ts'
import { renderReport, type Section } from './report.ts'

/**
 * `npm run bench`: runs every benchmark in this process, one after another, and writes BENCHMARKS.md.
 * `npm run bench -- http` runs one section and writes tmp/bench-http.md, leaving BENCHMARKS.md (a
 * whole run, every figure measured together) as it was.
 */
const benches: Array<[string, () => Promise<Section>, { broker?: boolean }?]> = [
  ['startup', benchStartup],
  ['log', benchLog],
  ['engine', benchEngine],
  ['http', benchHttp],
  ['segment', benchSegment],
  ['identity', benchIdentity],
  ['slow-body', benchSlowBody],
  ['e2e', benchE2e],
  // Long: TAGSTREAM_SOAK_DAY_S + TAGSTREAM_SOAK_RATE_S (default 10 + 10 min) plus the sink catching up.
  ['soak', benchSoak],
  ['warehouse', benchWarehouse],
  ['backfill', benchBackfill],
  ['erase', benchErase],
  // About 4 GB of NDJSON made and turned into Parquet first (not timed), then one prediction run.
  ['predict', benchPredict],
  // Postgres at 127.0.0.1:5432 (TAGSTREAM_TEST_POSTGRES); Kafka from scripts/kafka, started when none answers.
  ['postgres', benchPostgres],
  ['kafka', benchKafka, { broker: true }],
  // The JSON format of the events log against the binary envelope, same run (issue 23).
  ['events-format', benchEventsFormat, { broker: true }],
  ['worker', benchWorker, { broker: true }],
  // Seed 000 through replay, ingest and one worker (Kafka), then a 10 GB replay (BENCH_BULK_COPIES=42 copies) for memory.
  ['bulk', benchBulk, { broker: true }],
]

const only = process.argv[2]
if (only && !benches.some(([name]) => name === only)) {
  process.stderr.write(`bench: no section "${only}" (sections: ${benches.map(([n]) => n).join(', ')})\n`)
  process.exit(2)
}
const sections: Section[] = []
let broker: BrokerLease | null = null
for (const [name, run, o] of benches) {
  if (only && only !== name) continue
  if (o?.broker && !broker) {
    broker = await leaseBroker()
    if (broker.error) throw new Error(`bench: no Kafka broker for "${name}": ${broker.error}`)
  }
  process.stderr.write(`bench: ${name}…\n`)
  const section = await run()
  for (const f of section.figures) process.stderr.write(`  ${f.name}: ${f.value.toFixed(f.value < 100 ? 2 : 0)} ${f.unit}\n`)
  sections.push(section)
}
await broker?.release()
const out = only ? `tmp/bench-${only}.md` : 'BENCHMARKS.md'
if (only) mkdirSync('tmp', { recursive: true })
writeFileSync(out, renderReport(sections))
process.stderr.write(`bench: wrote ${out}\n`)
