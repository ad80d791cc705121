import { parentPort, workerData } from 'node:worker_threads'
import { PartitionsLinked } from '../replay.ts'
import { ReplayEngine, type ReplayJob } from './engine-side.ts'
import { readChunkJob } from './read-chunk.ts'
import type { FromReader, ToReader } from './thread-messages.ts'

/*
 * A replay's engine thread: the reading thread sends batches of entries as they are read, this one
 * applies them, so reading and the engine each have a core; with its partitions split with the
 * reading thread, it reads some chunks too (./engine-link.ts, pairedEngine). Answers every message
 * in the order sent: the reader's count of unanswered batches bounds the memory between the two.
 */
const port = parentPort!
const engine = new ReplayEngine(workerData as ReplayJob)
port.on('message', (m: FromReader) => {
  let out: ToReader
  if (m.type === 'batch') {
    try {
      out = { type: 'done', ...engine.batch(Buffer.from(m.buffer, 0, m.length), m.length) }
    } catch (err) {
      if (!(err instanceof PartitionsLinked)) throw err
      out = { type: 'linked' }
    }
  } else if (m.type === 'read') out = { type: 'read', read: readChunkJob(m) }
  else if (m.type === 'latest') out = { type: 'latest', at: engine.latest() }
  else out = { type: 'result', ...engine.finish(m.at) }
  port.postMessage(out)
})
// Until this, the reading thread reads every chunk itself: this thread is still loading.
port.postMessage({ type: 'ready' } satisfies ToReader)
