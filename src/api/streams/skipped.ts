import type { StreamKind } from './kinds.ts'

/*
 * Records of the output logs that SSE streams skipped as unusable (./records.ts), for the server's
 * /metrics (`tagstream_stream_skipped_records_total`). Module state, like the truncated-texts count
 * (src/ingest/text-bounds.ts): sessions are made by the route without the metrics registry, and a
 * process runs one server. A record is counted by every stream that read it.
 */

const skipped: Record<StreamKind['name'], number> = { 'segment-changes': 0, notifications: 0 }

export function countSkippedRecord(stream: StreamKind['name']): void {
  skipped[stream] = (skipped[stream] ?? 0) + 1
}

/** Records skipped since the process started, by stream. */
export function skippedStreamRecords(): Readonly<Record<StreamKind['name'], number>> {
  return skipped
}
