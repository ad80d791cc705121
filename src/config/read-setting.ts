import { ConfigError, describeSource, ValueProblem, type ValueSource } from './config-error.ts'
import type { Parser } from './parsers.ts'
import type { Setting } from './settings.ts'

/** The environment as the readers take it: process.env at the CLI, a plain object in tests. */
export type Env = Readonly<Record<string, string | undefined>>

/** The process's environment; the only place tagstream reads it (a test checks src/ for others). */
export function processEnv(): Env {
  return process.env
}

/** Parses one value, turning a ValueProblem into a ConfigError that names its source. */
export function parseFrom<T>(parse: Parser<T>, source: ValueSource, raw: string, secret = false): T {
  try {
    return parse(raw)
  } catch (err) {
    if (err instanceof ValueProblem) throw new ConfigError(describeSource(source, raw, secret), err.message)
    throw err
  }
}

/** The flag's long name (`--partitions`) from commander's spelling (`--partitions <n>`). */
export function flagName(flags: string): string {
  const long = /--[\w-]+/.exec(flags)
  if (long === null) throw new Error(`no long flag in "${flags}"`)
  return long[0]
}

/** A parser for commander's `.argParser()`: errors name the flag and the value typed. */
export function flagParser<T>(flag: string, parse: Parser<T>): (raw: string) => T {
  const name = flagName(flag)
  return (raw) => parseFrom(parse, { flag: name }, raw)
}

/**
 * The variable's value, parsed, or undefined when it is unset. An empty variable counts as unset
 * (`TAGSTREAM_PORT= tagstream serve` is how a shell clears one); spaces alone do not.
 * `parse` replaces the table's parser for values the command parses further (API keys, webhooks).
 */
export function readEnv<T>(s: Setting<T>, env: Env): T | undefined
export function readEnv<U>(s: Setting<unknown>, env: Env, parse: Parser<U>): U | undefined
export function readEnv(s: Setting<unknown>, env: Env, parse: Parser<unknown> = s.parse): unknown {
  const raw = env[s.env]
  if (raw === undefined || raw === '') return undefined
  return parseFrom(parse, { env: s.env }, raw, s.secret)
}

/** The flag's value when given (its text as commander hands it over), else the variable's, else undefined. */
export function readFlagOrEnv<T>(s: Setting<T>, flag: string | undefined, env: Env): T | undefined {
  if (flag === undefined) return readEnv(s, env)
  if (s.flag === undefined) throw new Error(`${s.env} has no flag`)
  return parseFrom(s.parse, { flag: flagName(s.flag) }, flag)
}
