import { join } from 'node:path'

/** The global options every command gets from commander (flags or their TAGSTREAM_* variables, see src/config/settings.ts). */
export interface GlobalOptions {
  data: string
  log?: string
  partitions: number
}

/** The event log: --log (or TAGSTREAM_LOG, applied by commander), else <data>/log. */
export function logUrl(dataDir: string, explicit?: string): string {
  return explicit ?? join(dataDir, 'log')
}
