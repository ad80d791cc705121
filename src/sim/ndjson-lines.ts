import { progressBar } from '../cli/progress.ts'
import { writeChunks } from './ndjson-sink.ts'

/** `count` items of `source` as NDJSON text in chunks of about 64 KiB; `progress` sees the items done. */
export function* ndjsonChunks(source: Iterator<object>, count: number, progress?: (done: number) => void): Generator<string> {
  let chunk = ''
  let done = 0
  for (; done < count; done++) {
    const next = source.next()
    if (next.done) break
    chunk += JSON.stringify(next.value) + '\n'
    if (chunk.length >= 65_536) {
      yield chunk
      chunk = ''
      progress?.(done + 1)
    }
  }
  if (chunk.length > 0) yield chunk
  progress?.(done)
}

/** Writes `count` items as NDJSON to `path` (.gz compresses, "-" is stdout) with a progress bar. */
export async function writeNdjson(path: string, source: Iterator<object>, count: number, label: string): Promise<{ lines: number; bytes: number }> {
  const bar = progressBar(count, 'events', `${label} `)
  let lines = 0
  try {
    const bytes = await writeChunks(
      path,
      ndjsonChunks(source, count, (done) => bar.update((lines = done))),
    )
    return { lines, bytes }
  } finally {
    bar.stop()
  }
}
