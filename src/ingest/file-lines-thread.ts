import { parentPort } from 'node:worker_threads'
import { FileLines, type FileChunkDone, type FileChunkJob } from './file-lines.ts'
import { RequestIds } from './ids.ts'

/* A `tagstream ingest` reader thread: chunks of lines in, each partition's frame (moved) and the rejections out. */
const port = parentPort!
port.on('message', (m: FileChunkJob) => {
  const options = { tenant: m.tenant, receivedAt: m.receivedAt, partitions: m.partitions, maxEvents: Number.POSITIVE_INFINITY, deduper: null, ids: new RequestIds(m.receivedAt), source: m.source }
  const r = FileLines.read(Buffer.from(m.chunk, m.offset, m.length), m.firstIndex, options)
  const done: FileChunkDone = {
    seq: m.seq,
    frames: r.frames.map((f) => ({ buffer: f.bytes.buffer as ArrayBuffer, used: f.used, count: f.count })),
    accepted: r.batch.accepted,
    rejected: r.batch.rejected,
    letters: r.batch.letters,
    lines: r.lines,
    unencodable: r.batch.unencodable?.message ?? null,
  }
  port.postMessage(
    done,
    done.frames.map((f) => f.buffer),
  )
})
