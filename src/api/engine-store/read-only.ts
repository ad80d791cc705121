/**
 * `PUT /v1/segments/:id` on a collector (`serve --no-engine`). The rules live with the workers, which
 * read them when they start; a collector changing only its own copy would answer with rules nobody
 * applies. The app's error handler turns statusCode and code into a 409 `segments_read_only`.
 */
export class SegmentsReadOnlyError extends Error {
  readonly statusCode = 409
  readonly code = 'SEGMENTS_READ_ONLY'

  constructor(name: string) {
    super(
      `segment "${name}" not changed: this server runs without an engine (serve --no-engine), so segments are read-only here; ` +
        'edit the segments file the workers and collectors read, then restart them (tagstream worker, then serve --no-engine)',
    )
    this.name = 'SegmentsReadOnlyError'
  }
}
