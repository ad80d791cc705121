import http from 'node:http'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DuckDBInstance } from '@duckdb/node-api'
import { encodeClockRecord } from '../src/events/clock-record.ts'
import { TOPICS } from '../src/log/event-log.ts'
import { openEventLog } from '../src/log/open-log.ts'
import { eventsGlob, partFileName } from '../src/warehouse/layout.ts'
import { postEvents } from './post-events.ts'
import { BENCH_KEY, engineCaughtUp, startServeProcess } from './serve-process.ts'
import { fmt, type Section } from './report.ts'

const DAYS = 10
const ROWS_PER_DAY = 1_000_000
const PARTITIONS = 4
const USERS = 200_000
const DAY = 86_400_000
/** Today, UTC midnight: the history's ten days end here and stay within the server's retention. */
const T = Math.floor(Date.now() / 86_400_000) * 86_400_000
/** Issue 19's target: erase one person from 10 days × 1M rows. */
const TARGET_S = 30
/** Ingest measured this long before the erase, and while it runs. */
const BASELINE_S = 10
const PERSON = 'u4'

/**
 * Erasing one person (docs/privacy.md) from a warehouse of 10 days × 1M event rows (4 partitions,
 * one file per day and partition, as compaction leaves them; the person has rows in every day) on a
 * running `tagstream serve`, while a load generator keeps posting events. Timed from the DELETE to
 * the job's `done` (engine checkpointed past the records, every file holding the person's rows
 * rewritten). In the same run: the ingest rate over the 10 s before the erase and while it runs.
 */
export async function benchErase(): Promise<Section> {
  const dir = mkdtempSync(join(tmpdir(), 'tagstream-bench-erase-'))
  try {
    const perPartition = ROWS_PER_DAY / PARTITIONS
    await buildWarehouse(join(dir, 'warehouse'), perPartition)
    // The log the history came from has been dropped by retention as far as the sink is concerned:
    // the warehouse group is committed past it (the offsets the files cover are clock records here).
    const { log } = await openEventLog(join(dir, 'log'), { partitions: PARTITIONS, retentionCheckMs: 0 })
    const covered = DAYS * perPartition
    for (let p = 0; p < PARTITIONS; p++) {
      for (let o = 0; o < covered; o += 50_000) {
        const n = Math.min(50_000, covered - o)
        await log.append(
          TOPICS.events,
          p,
          Array.from({ length: n }, () => ({ key: null, value: encodeClockRecord(T - DAY), timestamp: T - DAY })),
        )
      }
      await log.commit('warehouse', TOPICS.events, p, covered)
    }
    await log.close()

    const server = await startServeProcess(dir, 'segments:\n  spinner:\n    when: count(spin, 1h) >= 3\n', [], { TAGSTREAM_PARTITIONS: String(PARTITIONS), TAGSTREAM_RETENTION_DAYS: '30' })
    const agent = new http.Agent({ keepAlive: true, maxSockets: 4 })
    try {
      // The person is live too (a profile to erase), then the engine catches up with the history's clock records.
      await postEvents(agent, server.url, Buffer.from(JSON.stringify([{ event: 'spin', user_id: PERSON, ts: T }])))
      await engineCaughtUp(server.url)
      const rowsBefore = await personRows(dir)

      // Load: batches of 500 events from 2 connections, counted per second.
      let running = true
      let accepted = 0
      let seq = 0
      const marks: Array<{ at: number; accepted: number }> = []
      const sender = async (): Promise<void> => {
        while (running) {
          const batch = Array.from({ length: 500 }, () => {
            const i = seq++
            return { event: 'spin', user_id: `live-${i % 50_000}`, ts: T + (i % 3_600_000) }
          })
          accepted += (await postEvents(agent, server.url, Buffer.from(JSON.stringify(batch)))).accepted
        }
      }
      const senders = [sender(), sender()]
      const mark = setInterval(() => marks.push({ at: performance.now(), accepted }), 250)
      await new Promise((r) => setTimeout(r, BASELINE_S * 1000))
      const t0 = performance.now()
      const atStart = accepted
      const res = await fetch(`${server.url}/v1/profiles/${PERSON}`, { method: 'DELETE', headers: { authorization: `Bearer ${BENCH_KEY}` } })
      if (res.status !== 202) throw new Error(`erase: ${res.status} ${await res.text()}`)
      const { status_url } = (await res.json()) as { status_url: string }
      for (;;) {
        const job = (await (await fetch(`${server.url}${status_url}`, { headers: { authorization: `Bearer ${BENCH_KEY}` } })).json()) as { status: string }
        if (job.status === 'done') break
        await new Promise((r) => setTimeout(r, 50))
      }
      const seconds = (performance.now() - t0) / 1000
      const during = (accepted - atStart) / seconds
      running = false
      clearInterval(mark)
      await Promise.all(senders)
      const baseline = rateOver(marks, t0 - BASELINE_S * 1000 + 2000, t0)
      const rowsAfter = await personRows(dir)
      return {
        title: 'Erasing one person (DELETE /v1/profiles/:id) under load',
        description:
          `A running \`tagstream serve\` (4 partitions, its warehouse holding ${fmt(DAYS * ROWS_PER_DAY)} event rows over ${DAYS} days, one Parquet file per day and partition) erases one person ` +
          `with ${fmt(rowsBefore)} rows spread over every day, while two connections post batches of 500 events. Timed from the DELETE to the job's \`done\`: erase records appended, every ` +
          `partition's engine checkpointed past its record, the files holding the person's rows rewritten without them (${fmt(rowsAfter)} left). The comparison, in the same run: the ingest rate ` +
          `over the ${BASELINE_S - 2} s before the DELETE and while the erase ran.`,
        figures: [
          {
            name: 'erase of one person from 10 days × 1M rows',
            value: seconds,
            unit: 's',
            target: `< ${TARGET_S} s`,
            met: seconds < TARGET_S && rowsAfter === 0,
            notes: `${fmt(rowsBefore)} rows removed`,
          },
          { name: 'ingest while the erase runs', value: during, unit: 'events/s' },
          { name: 'comparison: ingest before the erase', value: baseline, unit: 'events/s', notes: `${during >= baseline ? '+' : ''}${((during / baseline - 1) * 100).toFixed(0)} % while erasing` },
        ],
      }
    } finally {
      agent.destroy()
      await server.stop()
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** Events per second between two marks' times. */
function rateOver(marks: ReadonlyArray<{ at: number; accepted: number }>, from: number, to: number): number {
  const inside = marks.filter((m) => m.at >= from && m.at <= to)
  const first = inside[0]
  const last = inside[inside.length - 1]
  return first && last && last.at > first.at ? ((last.accepted - first.accepted) * 1000) / (last.at - first.at) : 0
}

/** The sink's layout and columns: spins of USERS users round-robin, each day one file per partition. */
async function buildWarehouse(root: string, perPartition: number): Promise<void> {
  const db = await DuckDBInstance.create(':memory:')
  const conn = await db.connect()
  for (let d = 0; d < DAYS; d++) {
    const dayStart = T - (DAYS - d) * DAY
    const out = join(root, 'events', `dt=${new Date(dayStart).toISOString().slice(0, 10)}`, 'event=spin')
    mkdirSync(out, { recursive: true })
    for (let p = 0; p < PARTITIONS; p++) {
      const first = d * perPartition
      await conn.run(
        `COPY (SELECT 'spin' AS event, 'u' || ((i * ${PARTITIONS} + ${p}) % ${USERS}) AS user_id, NULL::VARCHAR AS anonymous_id, ` +
          `make_timestamp(((${dayStart} + (i * 337) % ${DAY}) * 1000)::BIGINT) AS ts, 'e${p}-' || (${first} + i) AS event_id, 'default' AS tenant, ` +
          `make_timestamp(${T}::BIGINT * 1000) AS received_at, ${p} AS partition, (${first} + i)::BIGINT AS "offset", '{}' AS properties FROM range(${perPartition}) r(i)) ` +
          `TO '${join(out, partFileName(p, first, first + perPartition - 1))}' (FORMAT parquet)`,
      )
    }
  }
  conn.closeSync()
  db.closeSync()
}

/** The person's rows in the warehouse's event files. */
async function personRows(dir: string): Promise<number> {
  const db = await DuckDBInstance.create(':memory:')
  const conn = await db.connect()
  try {
    const r = await conn.runAndReadAll(`SELECT count(*) FROM read_parquet('${eventsGlob(join(dir, 'warehouse'))}', union_by_name = true) WHERE user_id = '${PERSON}'`)
    return Number(r.getRows()[0]?.[0])
  } finally {
    conn.closeSync()
    db.closeSync()
  }
}
