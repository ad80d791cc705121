import { parentPort } from 'node:worker_threads'
import { FileLines, type FileChunkDone, type FileChunkJob } from './file-lines.ts'

/* A `tagstream ingest` reader thread: chunks of lines in, each partition's frame (moved) and the rejections out. */
const port = parentPort!
port.on('message', (m: FileChunkJob) => {
  const read = FileLines.chunk(Buffer.from(m.chunk, m.offset, m.length), m.firstIndex, FileLines.options(m.tenant, m.receivedAt, m.partitions, m.source, m.eventsFormat))
  const done: FileChunkDone = { ...read, seq: m.seq, frames: read.frames.map((f) => ({ buffer: f.bytes.buffer as ArrayBuffer, used: f.used, count: f.count })) }
  port.postMessage(
    done,
    done.frames.map((f) => f.buffer),
  )
})
