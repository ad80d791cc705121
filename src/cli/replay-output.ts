import { createWriteStream, openSync } from 'node:fs'
import type { Writable } from 'node:stream'
import { finished } from 'node:stream/promises'

/** Lines are gathered into writes of about this many characters: one write call per line is slow. */
const CHUNK_CHARS = 1 << 20

/**
 * The destination of `replay --changes`: NDJSON lines to a file, or to stdout for "-". The replay
 * loop adds lines synchronously and awaits `flush()` once per batch of input, so a slow disk or a
 * slow reader of stdout holds the replay back instead of letting lines pile up in memory.
 */
export class NdjsonOutput {
  private parts: string[] = []
  private chars = 0
  /** The stream's first error: a write that returned true may still fail later (a full disk). */
  private failure: Error | null = null
  /** Resolves the wait in writeOut(), on 'drain' or on an error (after which no 'drain' comes). */
  private wake: (() => void) | null = null

  private constructor(
    private readonly stream: Writable,
    /** A file we opened: ended on close. stdout stays open. */
    private readonly owned: boolean,
    /** For messages: a write error alone (ENOSPC) does not say which file. */
    private readonly name: string,
  ) {
    // Without a listener an 'error' event would crash the process instead of failing the replay.
    stream.on('error', (err: Error) => {
      this.failure ??= err
      this.wake?.()
    })
    stream.on('drain', () => this.wake?.())
  }

  /**
   * Opens the destination now, so a path that cannot be written fails before any work is done. The
   * file is created or truncated.
   */
  static open(target: string): NdjsonOutput {
    if (target === '-') return new NdjsonOutput(process.stdout, false, 'stdout')
    const fd = openSync(target, 'w')
    return new NdjsonOutput(createWriteStream(target, { fd, highWaterMark: CHUNK_CHARS }), true, target)
  }

  line(text: string): void {
    this.parts.push(text)
    this.chars += text.length + 1
  }

  /** Writes what is gathered once it is a chunk; waits while the destination is behind. */
  async flush(): Promise<void> {
    if (this.chars >= CHUNK_CHARS) await this.writeOut()
  }

  /** Writes the rest and, for a file, closes it: resolves once everything was handed to the OS. */
  async close(): Promise<void> {
    await this.writeOut()
    try {
      if (this.owned) {
        this.stream.end()
        await finished(this.stream)
      } else {
        // An empty write whose callback runs after every earlier write of the stream.
        await new Promise<void>((resolve, reject) => this.stream.write('', (err) => (err ? reject(err) : resolve())))
      }
    } catch (err) {
      throw this.named(err as Error)
    }
  }

  /** After a failure: releases the file without waiting for anything. */
  abort(): void {
    if (this.owned) this.stream.destroy()
  }

  private async writeOut(): Promise<void> {
    this.check()
    if (this.parts.length === 0) return
    const chunk = this.parts.join('\n') + '\n'
    this.parts = []
    this.chars = 0
    if (!this.stream.write(chunk)) {
      await new Promise<void>((resolve) => (this.wake = resolve))
      this.wake = null
      this.check()
    }
  }

  private check(): void {
    if (this.failure) throw this.named(this.failure)
  }

  private named(err: Error): Error {
    return new Error(`cannot write ${this.name}: ${err.message}`, { cause: err })
  }
}
