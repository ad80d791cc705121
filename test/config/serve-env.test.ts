import { resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { serveEnv, serverConfig } from '../../src/cli/serve.ts'
import { workerSettings } from '../../src/cli/worker.ts'

/*
 * The variables that have no flag reach the server as typed ServerConfig fields: library code
 * (the collector, the streams route, the dashboard) reads these, never the environment.
 */

const global = { data: '/srv/ts', partitions: 4 }
const flags = { host: '127.0.0.1', port: 0, warehouse: false }

describe('serve: variables without a flag', () => {
  it('leave the defaults alone when unset or empty', () => {
    const env = serveEnv({ TAGSTREAM_SSE_HEARTBEAT_MS: '', TAGSTREAM_API_KEYS: '' })
    expect(env).toEqual({ logLevel: undefined, keys: undefined, webhooks: undefined, engine: undefined, collectorFastPath: undefined, sseHeartbeatMs: undefined, webDir: undefined })
    const c = serverConfig(global, flags, [], env)
    expect(c).toMatchObject({ collectorFastPath: true, sseHeartbeatMs: 15_000, webDir: null, engine: true, webhooks: [], stateUrl: '/srv/ts/state', logUrl: '/srv/ts/log' })
  })

  it('become typed config fields', () => {
    const env = serveEnv({
      TAGSTREAM_COLLECTOR_FAST_PATH: '0',
      TAGSTREAM_SSE_HEARTBEAT_MS: '150',
      TAGSTREAM_WEB_DIR: 'web/other',
      TAGSTREAM_ENGINE: 'off',
      TAGSTREAM_LOG_LEVEL: 'warn',
      TAGSTREAM_API_KEYS: 'k1:acme:write+read, k2:default:admin',
      TAGSTREAM_WEBHOOKS: '[{"url":"https://hooks.example.com/a","streams":["notifications"]}]',
    })
    expect(env.logLevel).toBe('warn')
    expect(env.keys).toEqual([
      { key: 'k1', tenant: 'acme', scopes: ['write', 'read'] },
      { key: 'k2', tenant: 'default', scopes: ['admin'] },
    ])
    expect(serverConfig(global, flags, env.keys ?? [], env)).toMatchObject({
      collectorFastPath: false,
      sseHeartbeatMs: 150,
      webDir: resolve('web/other'),
      engine: false,
      webhooks: [{ url: 'https://hooks.example.com/a', streams: ['notifications'] }],
    })
    // --no-engine wins over TAGSTREAM_ENGINE=on.
    expect(serverConfig(global, { ...flags, engine: false }, [], serveEnv({ TAGSTREAM_ENGINE: 'on' })).engine).toBe(false)
    // The seed listener (docs/game.md, "Seed commands"): off unless a port is named.
    expect(serverConfig(global, flags, []).seed).toEqual({ port: null, tenant: 'default' })
    expect(serverConfig(global, { ...flags, seedPort: 5000, seedTenant: 'acme' }, []).seed).toEqual({ port: 5000, tenant: 'acme' })
  })

  it('refuse bad values, naming the variable', () => {
    expect(() => serveEnv({ TAGSTREAM_WEBHOOKS: 'not json' })).toThrow(/^TAGSTREAM_WEBHOOKS="not json": not JSON: /)
    expect(() => serveEnv({ TAGSTREAM_WEBHOOKS: '[{"url":"ftp://x"}]' })).toThrow('TAGSTREAM_WEBHOOKS=[{"url":"ftp://x"}]: [0].url must be an http(s) URL')
    expect(() => serveEnv({ TAGSTREAM_API_KEYS: 'k1:acme:delete' })).toThrow('TAGSTREAM_API_KEYS (value hidden): API key entry "k1:acme:delete": unknown scope "delete" (write, read, admin, operator)')
    expect(() => serveEnv({ TAGSTREAM_SSE_HEARTBEAT_MS: '1.5' })).toThrow('TAGSTREAM_SSE_HEARTBEAT_MS=1.5: must be a duration in milliseconds, an integer of at least 1')
    expect(() => serveEnv({ TAGSTREAM_WEB_DIR: ' ' })).toThrow('TAGSTREAM_WEB_DIR=" ": must not be empty')
  })
})

describe('worker: flags over variables', () => {
  const pg = 'postgres://u@db:5432/app?schema=w'
  it('parses each flag or variable once, with the same messages', () => {
    expect(workerSettings(global, { state: pg, heartbeatMs: '300' }, { TAGSTREAM_HEARTBEAT_MS: 'junk', TAGSTREAM_LEASE_MS: '4000', TAGSTREAM_SESSION_MS: '1800' }).timing).toEqual({
      heartbeatMs: 300,
      sessionMs: 1_800,
      leaseMs: 4_000,
      appendMarginMs: 2_000,
    })
    expect(() => workerSettings(global, { state: pg }, { TAGSTREAM_CHECKPOINT_MS: '0' })).toThrow('TAGSTREAM_CHECKPOINT_MS=0: must be a duration in milliseconds, an integer of at least 1')
    expect(() => workerSettings(global, { state: pg, clockTickMs: '-1' }, {})).toThrow('--clock-tick-ms -1: must be a duration in milliseconds, an integer of at least 0')
    expect(() => workerSettings(global, {}, { TAGSTREAM_STATE: pg, TAGSTREAM_BATCH_SIZE: '1e3' })).toThrow('TAGSTREAM_BATCH_SIZE=1e3: must be an integer of at least 1')
  })

  it('reads history from a warehouse directory only when one is named (docs/tenancy.md)', () => {
    expect(workerSettings(global, { state: pg }, {}).worker.warehouseRoot).toBeNull()
    expect(workerSettings(global, { state: pg }, { TAGSTREAM_WAREHOUSE: '/mnt/wh' }).worker.warehouseRoot).toBe('/mnt/wh')
    expect(workerSettings(global, { state: pg, warehouse: 'shared/wh' }, { TAGSTREAM_WAREHOUSE: '/mnt/wh' }).worker.warehouseRoot).toBe(resolve('shared/wh'))
    expect(() => workerSettings(global, { state: pg }, { TAGSTREAM_WAREHOUSE: '   ' })).toThrow('TAGSTREAM_WAREHOUSE')
  })
})
