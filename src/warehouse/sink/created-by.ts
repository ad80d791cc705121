import { readFileSync } from 'node:fs'

/**
 * The writer named in every event file's footer, in the form other engines parse
 * (`<application> version <x.y.z> (build <hash>)`, PARQUET-251: parquet-java's VersionParser
 * logs a stack trace for each file whose `created_by` it cannot parse). The version is
 * package.json's; the sources run as they are, with no build step to stamp a commit into them, so
 * the build is `none`. Read once: the sink writes it into every file, and files of one version stay
 * byte-identical for the same rows.
 */
export const CREATED_BY = `tagstream version ${packageVersion()} (build none)`

function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version?: unknown }
    if (typeof pkg.version === 'string' && /^\d+\.\d+\.\d+/.test(pkg.version)) return pkg.version
  } catch {
    // Not beside its package.json (bundled elsewhere): still a version the parsers accept.
  }
  return '0.0.0'
}
