import { Command, CommanderError } from 'commander'
import { describe, expect, it } from 'vitest'
import { addSetting, applyEnv } from '../../src/config/commander-options.ts'
import { ConfigError, describeSource } from '../../src/config/config-error.ts'
import { readEnv, readFlagOrEnv } from '../../src/config/read-setting.ts'
import { SETTINGS } from '../../src/config/settings.ts'

function thrown(fn: () => unknown): ConfigError {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError)
    return err as ConfigError
  }
  throw new Error('nothing thrown')
}

describe('the error format', () => {
  it('names the flag or the variable, the value, and what is allowed; exit code 2', () => {
    const env = thrown(() => readEnv(SETTINGS.partitions, { TAGSTREAM_PARTITIONS: 'abc' }))
    expect(env.message).toBe('TAGSTREAM_PARTITIONS=abc: must be an integer from 1 to 1024')
    expect(env).toBeInstanceOf(CommanderError)
    expect(env.exitCode).toBe(2)
    expect(env.code).toBe('tagstream.config')
    expect(thrown(() => readFlagOrEnv(SETTINGS.partitions, 'abc', {})).message).toBe('--partitions abc: must be an integer from 1 to 1024')
  })

  it('quotes values that are empty or hold spaces, cuts long ones, hides secrets in variables', () => {
    expect(describeSource({ env: 'TAGSTREAM_PORT' }, ' ')).toBe('TAGSTREAM_PORT=" "')
    expect(describeSource({ flag: '--id' }, 'two words')).toBe('--id "two words"')
    expect(describeSource({ flag: '--port' }, '')).toBe('--port ""')
    expect(describeSource({ env: 'TAGSTREAM_WEBHOOKS' }, 'x'.repeat(100))).toBe(`TAGSTREAM_WEBHOOKS=${'x'.repeat(80)}…`)
    expect(describeSource({ env: 'TAGSTREAM_API_KEYS' }, 'k:t:write', true)).toBe('TAGSTREAM_API_KEYS (value hidden)')
    expect(thrown(() => readEnv(SETTINGS.key, { TAGSTREAM_KEY: 'sec ret' })).message).toBe('TAGSTREAM_KEY (value hidden): must be an API key or a comma-separated list of them')
  })
})

describe('reading a setting', () => {
  it('treats an unset or empty variable as unset, spaces only as a bad value', () => {
    expect(readEnv(SETTINGS.port, {})).toBeUndefined()
    expect(readEnv(SETTINGS.port, { TAGSTREAM_PORT: '' })).toBeUndefined()
    expect(readEnv(SETTINGS.port, { TAGSTREAM_PORT: '9000' })).toBe(9000)
    expect(thrown(() => readEnv(SETTINGS.port, { TAGSTREAM_PORT: '  ' })).message).toBe('TAGSTREAM_PORT="  ": must be a port, an integer from 0 to 65535')
  })

  it('takes the flag over the variable, and does not parse the variable then', () => {
    const env = { TAGSTREAM_LEASE_MS: 'garbage', TAGSTREAM_BATCH_SIZE: '7' }
    expect(readFlagOrEnv(SETTINGS.leaseMs, '6000', env)).toBe(6000)
    expect(readFlagOrEnv(SETTINGS.batchSize, undefined, env)).toBe(7)
    expect(thrown(() => readFlagOrEnv(SETTINGS.leaseMs, undefined, env)).message).toBe('TAGSTREAM_LEASE_MS=garbage: must be a duration in milliseconds, an integer of at least 1')
  })
})

describe('flags and variables through commander', () => {
  /** A program with two settings, run in-process; returns its options and their sources. */
  async function run(args: string[], env: Record<string, string>) {
    const program = new Command('t').exitOverride().configureOutput({ writeErr: () => undefined, writeOut: () => undefined })
    addSetting(program, SETTINGS.partitions, { default: 8 })
    addSetting(program, SETTINGS.clockTickMs)
    // The hook reads process.env; this test applies its own environment first, as the hook would.
    program.hook('preAction', () => applyEnv(program, env))
    let seen: Record<string, unknown> = {}
    program.action(() => {
      seen = { ...program.opts(), partitionsFrom: program.getOptionValueSource('partitions'), tickFrom: program.getOptionValueSource('clockTickMs') }
    })
    await program.parseAsync(args, { from: 'user' })
    return seen
  }

  it('uses the flag, else the variable, else the default', async () => {
    expect(await run([], {})).toEqual({ partitions: 8, partitionsFrom: 'default', tickFrom: undefined })
    expect(await run([], { TAGSTREAM_PARTITIONS: '3', TAGSTREAM_CLOCK_TICK_MS: '0' })).toEqual({ partitions: 3, clockTickMs: 0, partitionsFrom: 'env', tickFrom: 'env' })
    expect(await run(['--partitions', '2'], { TAGSTREAM_PARTITIONS: '3' })).toMatchObject({ partitions: 2, partitionsFrom: 'cli' })
    // A bad variable is not an error when the flag overrides it.
    expect(await run(['--partitions', '2'], { TAGSTREAM_PARTITIONS: 'abc' })).toMatchObject({ partitions: 2, partitionsFrom: 'cli' })
  })

  it('refuses a bad flag or variable with the one format', async () => {
    await expect(run(['--partitions', '0'], {})).rejects.toThrow(new ConfigError('--partitions 0', 'must be an integer from 1 to 1024'))
    await expect(run([], { TAGSTREAM_CLOCK_TICK_MS: '-1' })).rejects.toThrow('TAGSTREAM_CLOCK_TICK_MS=-1: must be a duration in milliseconds, an integer of at least 0')
  })
})
