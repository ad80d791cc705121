import { parentPort, workerData } from 'node:worker_threads'
import { PartitionsLinked } from '../replay.ts'
import { ReplayEngine, type ReplayJob } from './engine-side.ts'
import type { FromReader, ToReader } from './thread-messages.ts'

/*
 * A replay's engine thread: the reading thread sends batches of entries as they are read, this one
 * applies them, so reading and the engine each have a core. Answers each batch (with its --changes
 * lines) in order: the reader's count of unanswered batches bounds the memory between the two.
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
  } else if (m.type === 'latest') out = { type: 'latest', at: engine.latest() }
  else out = { type: 'result', ...engine.finish(m.at) }
  port.postMessage(out)
})
