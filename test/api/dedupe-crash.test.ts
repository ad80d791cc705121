/**
 * The reported failure of issue 15 item 10: a client retries a batch whose acknowledgement was lost
 * in a crash. `tagstream serve` runs in its own process, is SIGKILLed right after acknowledging, and
 * is started again on the same data; the retry must come back as duplicates and the profile count
 * must equal one copy. On the embedded log and on a real Kafka broker.
 */
import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Admin } from '@platformatic/kafka'
import { afterAll, describe, expect, inject, it } from 'vitest'
import { startServeChild } from '../support/serve-child.ts'

const BROKER = process.env.TAGSTREAM_TEST_KAFKA ?? `127.0.0.1:${process.env.KAFKA_PORT ?? 9092}`
const KEY = 'crash-admin'
const dirs: string[] = []
const prefixes: string[] = []
afterAll(async () => {
  dirs.forEach((d) => rmSync(d, { recursive: true, force: true }))
  if (prefixes.length === 0) return
  const admin = new Admin({ clientId: 'tagstream-test-cleanup', bootstrapBrokers: [BROKER] })
  const mine = (await admin.listTopics()).filter((t) => prefixes.some((p) => t.startsWith(p)))
  if (mine.length > 0) await admin.deleteTopics({ topics: mine })
  await admin.close()
})

interface Answer {
  accepted: number
  duplicates: number
}

async function post(url: string, events: unknown[]): Promise<Answer> {
  const res = await fetch(`${url}/v1/events`, { method: 'POST', headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' }, body: JSON.stringify(events) })
  expect(res.status).toBe(200)
  return (await res.json()) as Answer
}

async function spins(url: string, user: string, want: number): Promise<number> {
  const deadline = Date.now() + 20_000
  for (;;) {
    const res = await fetch(`${url}/v1/profiles/${user}`, { headers: { authorization: `Bearer ${KEY}` } })
    const n = res.status === 200 ? (((await res.json()) as { counts?: Record<string, number> }).counts?.spin ?? 0) : 0
    if (n >= want || Date.now() > deadline) return n
    await new Promise((r) => setTimeout(r, 100))
  }
}

async function retryAfterCrash(args: string[]): Promise<void> {
  const ts = Date.now()
  const withIds = Array.from({ length: 50 }, (_, i) => ({ event: 'spin', user_id: `u${i % 5}`, ts: ts + i, event_id: `ev-${i}` }))
  const withoutIds = Array.from({ length: 10 }, (_, i) => ({ event: 'spin', user_id: `u${i % 5}`, ts: ts + 100 + i }))

  const first = await startServeChild(args, KEY)
  expect(await post(first.url, withIds)).toMatchObject({ accepted: 50, duplicates: 0 })
  expect(await post(first.url, withoutIds)).toMatchObject({ accepted: 10 })
  // The acknowledgement reached us; pretend it did not, and crash the server before anything else.
  await first.kill()

  const second = await startServeChild(args, KEY)
  try {
    // The client's retry: every id was stored before the crash.
    expect(await post(second.url, withIds)).toMatchObject({ accepted: 0, duplicates: 50 })
    // Ids the server assigned are never duplicates: the same body without ids is new events.
    expect(await post(second.url, withoutIds)).toMatchObject({ accepted: 10, duplicates: 0 })
    // A new id is still accepted, once.
    const fresh = [{ event: 'spin', user_id: 'u0', ts: ts + 200, event_id: 'ev-new' }]
    expect(await post(second.url, [...fresh, ...fresh])).toMatchObject({ accepted: 1, duplicates: 1 })
    // One copy of each event with an id: 10 + 2 + 2 + 1 for u0.
    expect(await spins(second.url, 'u0', 15)).toBe(15)
  } finally {
    await second.kill()
  }
}

describe('event_id de-duplication across a crash (tagstream serve, SIGKILL, restart)', () => {
  it('on the embedded log', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tagstream-dedupe-crash-'))
    dirs.push(dir)
    await retryAfterCrash(['--data', dir, '--partitions', '4'])
  }, 90_000)

  it('on Kafka', async () => {
    const startError = inject('kafkaStartError')
    if (startError) throw new Error(startError)
    const dir = mkdtempSync(join(tmpdir(), 'tagstream-dedupe-crash-kafka-'))
    dirs.push(dir)
    const prefix = `test-dedupe-${randomUUID().slice(0, 8)}-`
    prefixes.push(prefix)
    await retryAfterCrash(['--data', dir, '--log', `kafka://${BROKER}?prefix=${prefix}&clientId=tagstream-test`, '--partitions', '4'])
  }, 90_000)
})
