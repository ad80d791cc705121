#!/usr/bin/env -S node --max-semi-space-size=32 --initial-old-space-size=256
// V8 reads these only at start:
// --max-semi-space-size: the collector allocates many short-lived objects per event; a larger young
// generation means fewer scavenges (measured ~20% more ingest throughput).
// --initial-old-space-size: a full collection of the main thread waits until its old generation
// reaches 256 MiB, not V8's default of a little over the live size (about 25 MiB in a server).
// Requests answered by the engine thread leave promoted garbage behind (about 2 KB each); at
// 10,000 profile reads/s that meant a full collection every 1.2 s, each pausing every request for
// 5-15 ms (profile read p99 10 ms; with this, one every 13 s or so and p99 3.6 ms; BENCHMARKS.md).
//
// Runs the compiled package (dist/, built by `npm install` and `npm run build`). With
// TAGSTREAM_FROM_SOURCE=1 it runs the TypeScript sources through tsx instead (a development
// dependency): no build between edit and run, at about 0.25 s more per start (BENCHMARKS.md).
import { existsSync } from 'node:fs'
import { URL } from 'node:url'

const compiled = new URL('../dist/cli/main.js', import.meta.url)
let main
if (process.env.TAGSTREAM_FROM_SOURCE === '1' || !existsSync(compiled)) {
  let register
  try {
    ;({ register } = await import('tsx/esm/api'))
  } catch {
    process.stderr.write('tagstream: dist/ is missing and tsx is not installed: run `npm run build` (or `npm install`) first\n')
    process.exit(2)
  }
  register()
  ;({ main } = await import('../src/cli/main.ts'))
} else ({ main } = await import(compiled.href))
await main(process.argv)
