import { execFileSync } from 'node:child_process'

/**
 * Tests that start `bin/tagstream.mjs` run the compiled package, so dist/ is brought up to date
 * from src/ first (tsc's incremental build: about 3 s here when nothing changed), whether the suite runs
 * through `npm test` or a single file through `npx vitest run`.
 */
export default function setup(): void {
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' })
}
