/**
 * Writes the generated tables of docs/configuration.md (every environment variable and every
 * flag) from src/config/settings.ts and the commander program: `npx tsx scripts/config-docs.ts`.
 * test/config/docs.test.ts fails until this has been run after a setting or a flag changed.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { buildProgram } from '../src/cli/main.ts'
import { configurationMarkdown, replaceGenerated } from '../src/config/docs-table.ts'

const page = fileURLToPath(new URL('../docs/configuration.md', import.meta.url))
writeFileSync(page, replaceGenerated(readFileSync(page, 'utf8'), configurationMarkdown(buildProgram())))
console.log(`wrote ${page}`)
