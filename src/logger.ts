import { pino, type Logger } from 'pino'

/**
 * Structured JSON logs on stderr, so stdout stays free for command output (JSON, CSV, tables).
 * The level comes from the caller: the CLI parses TAGSTREAM_LOG_LEVEL (src/config/settings.ts) and
 * passes it down; library code never reads the environment.
 */
export function createLogger(name: string, level: string = 'info'): Logger {
  return pino({ name, level }, pino.destination(2))
}

export type { Logger }
