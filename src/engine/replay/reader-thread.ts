import { parentPort } from 'node:worker_threads'
import { readChunkJob } from './read-chunk.ts'
import type { ReadJob, ReadDone } from './read-pool.ts'

/* A replay's reader thread: chunks of lines in, their entries out (./read-pool.ts sends and orders them). */
const port = parentPort!
port.on('message', (m: ReadJob) => {
  const done: ReadDone = { seq: m.seq, ...readChunkJob(m) }
  port.postMessage(done)
})
