import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { threadScript } from '../../thread-script.ts'

const here = dirname(fileURLToPath(import.meta.url))

/** The engine thread's script (./engine-thread.ts). */
export function engineThreadScript(): string {
  return threadScript(join(here, 'engine-thread.ts'), 'engine-thread')
}
