import { createHash } from 'node:crypto'
import { appendDeadLetters } from '../../ingest/dead-letters.ts'
import type { WebhookConfig } from '../config.ts'
import type { ApiContext } from '../context.ts'
import { STREAM_KINDS, streamKindNamed } from '../streams/kinds.ts'
import { eventStreamTopic } from '../../log/event-log.ts'
import { effectiveStreams } from '../../rules/index.ts'
import { DEFAULT_BACKOFF, type BackoffPolicy } from './backoff.ts'
import { redact } from './deliver.ts'
import { dispatchPartition } from './dispatcher.ts'

/** An event stream's log name (docs/streams.md): `buy-events`. */
const EVENT_STREAM_LOG = /^[a-z][a-z0-9_]{0,39}-events$/

export { backoffDelay, DEFAULT_BACKOFF, nominalDelay, parseRetryAfter, type BackoffPolicy } from './backoff.ts'
export { classifyStatus, deliverBatch, idempotencyKey, type Batch, type DeliveryOutcome } from './deliver.ts'

export interface WebhookOptions {
  /** Default: the global fetch. */
  fetch?: typeof fetch
  /** Default 250 ms doubling to 30 s, ±20 % jitter. */
  backoff?: Partial<BackoffPolicy>
  /** Per request. Default 10 s. */
  timeoutMs?: number
  /** Records per POST. Default 100. */
  batchSize?: number
  /** How long a read parks at a partition's end; appends wake it at once. Default 500 ms. */
  pollWaitMs?: number
  /** Where a webhook seen for the first time starts. Default 'now'. */
  start?: 'now' | 'earliest'
  random?: () => number
  /** How long stop() lets a request in flight finish before aborting it. Default 2 s. */
  stopGraceMs?: number
}

export interface WebhookRunner {
  /**
   * Stops every dispatcher: no new request starts; one in flight gets a grace period (stopGraceMs),
   * then is aborted and re-sent after a restart. Resolves when every loop has ended.
   */
  stop(): Promise<void>
}

/** The consumer group a webhook's offsets are committed under: `webhook:` + the first 12 hex of sha1(url). */
export function webhookGroup(url: string): string {
  return `webhook:${createHash('sha1').update(url).digest('hex').slice(0, 12)}`
}

/** Throws naming the first problem: a URL that is not http(s), an unknown stream, a URL given twice. */
export function validateWebhooks(configs: readonly WebhookConfig[]): void {
  const seen = new Set<string>()
  configs.forEach((w, i) => {
    let u: URL
    try {
      u = new URL(w.url)
    } catch {
      throw new Error(`webhooks[${i}].url "${w.url}" is not a URL`)
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`webhooks[${i}].url must be http:// or https:// (got ${u.protocol})`)
    // Two entries with one URL would share a consumer group and steal each other's offsets.
    if (seen.has(w.url)) throw new Error(`webhooks[${i}].url ${redact(w.url)} is configured twice; list both streams in one entry`)
    seen.add(w.url)
    if (w.streams.length === 0) throw new Error(`webhooks[${i}].streams is empty: give "segment-changes", "notifications", "player-notifications" or an event stream's "<name>-events"`)
    // An event stream's name is checked against the rules file when the server starts (startWebhooks).
    for (const s of w.streams)
      if (!Object.hasOwn(STREAM_KINDS, s) && !EVENT_STREAM_LOG.test(s))
        throw new Error(`webhooks[${i}].streams: unknown stream "${s}" (segment-changes, notifications, player-notifications, <event stream>-events)`)
  })
}

/** validateWebhooks, and each stream named is one this server has: an event stream must be in the rules file (`eventStreams`: their names). */
export function checkWebhookStreams(configs: readonly WebhookConfig[], eventStreams: readonly string[]): void {
  validateWebhooks(configs)
  for (const w of configs) {
    for (const name of w.streams) {
      if (streamKindNamed(name, eventStreams) === null) {
        throw new Error(
          `webhook ${redact(w.url)}: unknown stream "${name}"; this server's event streams are ${eventStreams.map((s) => eventStreamTopic(s)).join(', ') || 'none'} (the rules file's streams:)`,
        )
      }
    }
  }
}

/**
 * Starts one dispatcher per configured webhook, stream and partition. Webhooks are server-level:
 * they receive every tenant's records (each record names its tenant).
 */
export function startWebhooks(ctx: ApiContext, options: WebhookOptions = {}): WebhookRunner {
  const configs = ctx.config.webhooks
  const eventStreams = (ctx.eventStreams ?? effectiveStreams(undefined)).map((s) => s.name)
  checkWebhookStreams(configs, eventStreams)
  const controller = new AbortController()
  const hard = new AbortController()
  const loops: Array<Promise<void>> = []
  const backoff = { ...DEFAULT_BACKOFF, ...options.backoff }
  for (const w of configs) {
    const group = webhookGroup(w.url)
    const only = w.only && w.only.length > 0 ? new Set(w.only) : null
    for (const name of new Set(w.streams)) {
      // checkWebhookStreams found every stream above.
      const kind = streamKindNamed(name, eventStreams)!
      for (let partition = 0; partition < ctx.partitions; partition++) {
        loops.push(
          dispatchPartition({
            log: ctx.log,
            logger: ctx.logger,
            group,
            kind,
            partition,
            filter: { tenant: null, only },
            deliver: {
              url: w.url,
              fetch: options.fetch ?? fetch,
              timeoutMs: options.timeoutMs ?? 10_000,
              backoff,
              random: options.random ?? Math.random,
              signal: controller.signal,
              hardSignal: hard.signal,
              logger: ctx.logger,
              count: (outcome) => ctx.metrics.webhookDeliveries.inc({ outcome }),
            },
            batchSize: options.batchSize ?? 100,
            readRecords: 1_000,
            pollWaitMs: options.pollWaitMs ?? 500,
            start: options.start ?? 'now',
            skipped: () => ctx.metrics.webhookSkipped.inc({ stream: kind.name }),
            deadLetter: (letter) => appendDeadLetters(ctx.log, [letter], ctx.partitions),
          }),
        )
      }
    }
    ctx.logger.info({ url: redact(w.url), group, streams: w.streams, only: w.only ?? [] }, 'webhook dispatcher started')
  }
  let stopped: Promise<void> | null = null
  return {
    stop() {
      if (!stopped) {
        controller.abort()
        // A request the receiver is answering right now is let finish, so a clean restart re-sends nothing.
        const grace = setTimeout(() => hard.abort(), options.stopGraceMs ?? 2_000)
        stopped = Promise.all(loops).then(() => clearTimeout(grace))
      }
      return stopped
    },
  }
}
