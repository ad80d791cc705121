import { join } from 'node:path'

/** Defaults shared by every command; each may be overridden by a flag or an environment variable. */
export const DEFAULTS = {
  dataDir: process.env.TAGSTREAM_DATA ?? 'data',
  partitions: Number(process.env.TAGSTREAM_PARTITIONS ?? 8),
}

export function logUrl(dataDir: string, explicit?: string): string {
  return explicit ?? process.env.TAGSTREAM_LOG ?? join(dataDir, 'log')
}

export function parsePositiveInt(name: string) {
  return (value: string): number => {
    const n = Number(value)
    if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, got "${value}"`)
    return n
  }
}
