import { prepareRules } from '../engine-rules.ts'
import type { EngineOptions } from '../engine-options.ts'
import type { Notification, SegmentChange } from '../records.ts'
import { Replay, type EntryShare, type ReplayResult } from '../replay.ts'
import type { RulesDefinition } from '../../rules/index.ts'

/** What a replay's engine needs, as plain data (it crosses to the engine's thread). */
export interface ReplayJob {
  /** The rules as parsed by the reading side: plain data, so an engine thread never loads the YAML parser (src/rules/yaml-lib.ts). */
  rules: RulesDefinition
  options: EngineOptions
  partitions: number
  asOf: number | null
  /** The segment changes and notifications are written out (`--changes`). */
  changes: boolean
  /** This engine's share of the partitions, when they are split across threads; none: all of them. */
  share?: EntryShare
}

/** One line of `--changes`: the live stream's record, tagged with which stream it belongs to. */
export function changeLine(c: SegmentChange): string {
  return JSON.stringify({ type: 'segment', ...c })
}

export function notificationLine(n: Notification): string {
  return JSON.stringify({ type: 'notification', ...n })
}

/**
 * The engine's side of a replay: batches of entries in, and for each the `--changes` lines it made
 * (joined by newlines; '' for none), then the result. The same object runs in the replay's engine
 * thread or, for a small input, in the reading thread itself.
 */
export class ReplayEngine {
  private readonly replay: Replay
  private readonly share: EntryShare | null
  private lines: string[] = []

  constructor(job: ReplayJob) {
    const rules = prepareRules(job.rules, job.options)
    // Repeated ids are the reader's business (ReplayInput): this side never sees raw lines.
    this.replay = new Replay(rules, job.options, job.partitions, job.asOf, { dedupeIds: 0 })
    this.share = job.share ?? null
    if (job.changes) {
      this.replay.onChange = (c) => this.lines.push(changeLine(c))
      this.replay.onNotification = (n) => this.lines.push(notificationLine(n))
    }
  }

  /**
   * Processes one batch: the changes lines it made, and whether the engine kept any of its events
   * (held for the watermark: they read the batch's memory later, so it must not be written again).
   */
  batch(bytes: Buffer, length: number): { changes: string; kept: boolean } {
    const held = this.replay.heldSoFar()
    this.replay.processEntries(bytes, length, this.share)
    // Without a listener the engines' records would pile up for the whole replay.
    this.replay.drainAll()
    return { changes: this.take(), kept: this.replay.heldSoFar() !== held }
  }

  /** The latest event time applied (with a share of the partitions: of this share). */
  latest(): number {
    return this.replay.latest()
  }

  /** Ends the replay (at `at`, when given: the end over every share), its result and the last changes lines. */
  finish(at?: number): { result: ReplayResult; changes: string } {
    const result = this.replay.finish(at)
    return { result, changes: this.take() }
  }

  private take(): string {
    if (this.lines.length === 0) return ''
    const text = this.lines.join('\n')
    this.lines = []
    return text
  }
}
