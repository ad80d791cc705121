import type { EventLog } from '../log/event-log.ts'
import { TOPICS } from '../log/event-log.ts'
import type { SegmentChange } from '../engine/records.ts'

/**
 * Counts segment entries, exits and notifications written since the demo started, by reading the
 * engine's output logs from where they ended at the start: the numbers are what the stream and the
 * dashboard show, not the simulators' guess.
 */
export class ChangeTally {
  entries = 0
  exits = 0
  notifications = 0

  private constructor(
    private readonly log: EventLog,
    private readonly changes: number[],
    private readonly notes: number[],
  ) {}

  static async start(log: EventLog, partitions: number): Promise<ChangeTally> {
    const ends = async (topic: string) => Promise.all(Array.from({ length: partitions }, async (_, p) => (await log.offsets(topic, p)).end))
    return new ChangeTally(log, await ends(TOPICS.segmentChanges), await ends(TOPICS.notifications))
  }

  async poll(): Promise<void> {
    await this.drain(TOPICS.segmentChanges, this.changes, (value) => {
      if ((JSON.parse(value) as SegmentChange).change === 'entered') this.entries++
      else this.exits++
    })
    await this.drain(TOPICS.notifications, this.notes, () => void this.notifications++)
  }

  private async drain(topic: string, next: number[], each: (value: string) => void): Promise<void> {
    for (let p = 0; p < next.length; p++) {
      for (;;) {
        const records = await this.log.read(topic, p, next[p]!, { maxRecords: 10_000, keys: false })
        if (records.length === 0) break
        for (const r of records) each(Buffer.from(r.value).toString('utf8'))
        next[p] = records.at(-1)!.offset + 1
      }
    }
  }
}

/** `[12:00:05] events 12,345 (298/s) · entries 456 · exits 123 · notifications 78 · largest: hot_streak 41, …` */
export function summaryLine(o: { at: Date; events: number; perSecond: number; tally: ChangeTally; sizes: Record<string, number> }): string {
  const n = (x: number) => Math.round(x).toLocaleString('en-US')
  const largest = Object.entries(o.sizes)
    .filter(([, size]) => size > 0)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .slice(0, 3)
    .map(([name, size]) => `${name} ${n(size)}`)
  const time = o.at.toISOString().slice(11, 19)
  return `[${time}] events ${n(o.events)} (${n(o.perSecond)}/s) · segment entries ${n(o.tally.entries)} · exits ${n(o.tally.exits)} · notifications ${n(o.tally.notifications)} · largest: ${largest.join(', ') || '(none yet)'}`
}
