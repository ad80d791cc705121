import type { TrackedEvent } from '../events/envelope.ts'
import type { EraseRecord } from '../events/erase-record.ts'

/** One erase a partition applied (docs/privacy.md): the job, whom, and where and when in its log. */
export interface AppliedErase {
  job: string
  tenant: string
  ids: string[]
  /** Offset of the erase record in this partition. */
  offset: number
  /** The record's log time: a forwarded event received before it is the erased person's. */
  at: number
  /** Per output topic: the partition's end offset once the erase's own exits were appended (the warehouse rewrites below it); filled in when those appends resolve. */
  outputs: Record<string, number>
}

/** Erases a checkpoint remembers: a job's first record wins, and a restore re-holds events as the run did. */
const KEEP = 256

/**
 * The erases a partition applied lately, kept in its checkpoint. What they decide must be what the
 * uninterrupted run decided, or a restore would emit different outputs (and the exactly-once skip
 * of outputs already in the log would skip the wrong ones): so nothing here looks at the state
 * store's jobs, only at records this partition read.
 */
export class PartitionErasures {
  private list: AppliedErase[] = []

  /** False when this job's record was applied here already (a second record of a job changes nothing). */
  isNew(r: EraseRecord): boolean {
    return !this.list.some((e) => e.job === r.job)
  }

  add(e: AppliedErase): void {
    this.list.push(e)
    if (this.list.length > KEEP) this.list.splice(0, this.list.length - KEEP)
  }

  get size(): number {
    return this.list.length
  }

  /**
   * An event read below an erase of its user: a held event read again after a restore (the run
   * dropped it from the held events at the record), or a forwarded event of an absorbed id that
   * left its partition before the erase there and arrived here after it.
   */
  erases(e: TrackedEvent, pos: number, forwarded: boolean): boolean {
    for (const x of this.list) {
      if (x.tenant !== e.tenant || !x.ids.includes(e.user_id)) continue
      if (forwarded ? e.received_at <= x.at : pos < x.offset) return true
    }
    return false
  }

  toJson(): AppliedErase[] | undefined {
    return PartitionErasures.toJsonOf(this.list)
  }

  /** The erases as they are now (a checkpoint's capture); their output positions may still be filling in. */
  snapshot(): AppliedErase[] {
    return [...this.list]
  }

  static toJsonOf(list: readonly AppliedErase[]): AppliedErase[] | undefined {
    return list.length === 0 ? undefined : list.map((e) => ({ ...e, outputs: { ...e.outputs } }))
  }

  static fromJson(json: unknown): PartitionErasures {
    const out = new PartitionErasures()
    if (Array.isArray(json)) out.list = json as AppliedErase[]
    return out
  }
}
