import { CommanderError } from 'commander'

/**
 * A value that is not what a parser wants, without saying where it came from: the parsers in
 * parsers.ts throw it, and the caller who knows the source (a flag or a variable) turns it into a
 * ConfigError, so every message has the same shape whichever way the value arrived.
 */
export class ValueProblem extends Error {
  override name = 'ValueProblem'
}

/** Where a value came from: a flag on the command line or an environment variable. */
export type ValueSource = { flag: string } | { env: string }

/**
 * A bad flag or environment variable: `--partitions abc: must be an integer from 1 to 1024` or
 * `TAGSTREAM_PARTITIONS=abc: must be an integer from 1 to 1024`. It is a CommanderError with exit
 * code 2 and a code commander does not rewrite, so a parser may throw it from `.argParser()`: the
 * message reaches the user as written, whether commander exits or the caller catches it.
 */
export class ConfigError extends CommanderError {
  constructor(
    /** `--port 99999` or `TAGSTREAM_PORT=99999`, the value hidden for secrets. */
    readonly source: string,
    /** What the value must be, with the allowed range or values. */
    readonly problem: string,
  ) {
    super(2, 'tagstream.config', `${source}: ${problem}`)
    this.name = 'ConfigError'
  }
}

/** Long values (a JSON list of webhooks) are cut so the message stays one readable line. */
const MAX_SHOWN = 80

/**
 * The source as messages show it; a value that is empty or has spaces is shown
 * JSON-quoted so it can be seen. A secret variable's value is hidden (a flag's is not: it was
 * typed on the command line, in plain view already).
 */
export function describeSource(source: ValueSource, raw: string, secret = false): string {
  if ('env' in source && secret) return `${source.env} (value hidden)`
  const cut = raw.length > MAX_SHOWN ? `${raw.slice(0, MAX_SHOWN)}…` : raw
  const shown = cut === '' || /\s/.test(cut) ? JSON.stringify(cut) : cut
  return 'env' in source ? `${source.env}=${shown}` : `${source.flag} ${shown}`
}
