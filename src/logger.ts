import { pino, type Logger } from 'pino'

/** Structured JSON logs on stderr, so stdout stays free for command output (JSON, CSV, tables). */
export function createLogger(name: string, level: string = process.env.TAGSTREAM_LOG_LEVEL ?? 'info'): Logger {
  return pino({ name, level }, pino.destination(2))
}

export type { Logger }
