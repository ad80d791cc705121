import type { FastifyInstance, preHandlerAsyncHookHandler } from 'fastify'
import type { Collector } from '../collector/index.ts'
import type { BodyShape } from '../../ingest/pipeline.ts'
import { needs } from '../schemas/common.ts'
import { POSTHOG_BODY, POSTHOG_RESPONSES, SEGMENT_BATCH_BODY, SEGMENT_CALL_BODY, SEGMENT_RESPONSES } from '../schemas/segment.ts'

/**
 * The Segment tracking spec's routes (docs/segment.md), registered in the collector's scope so they
 * share its raw-body reading, in-flight budget and de-duplication horizon. POST /v1/track is the
 * collector's own route and reads a Segment track call too (src/ingest/pipeline.ts).
 *
 *   /v1/batch, /v1/import          {"batch": [...]}: analytics-node, RudderStack's SDKs
 *   /v1/identify /page /screen /group /alias     one call
 *   /v1/b, /v1/i /p /s /g /a /t    the same, as Segment's browser library names them
 */
const ROUTES: ReadonlyArray<{ paths: string[]; shape: BodyShape; summary: string }> = [
  { paths: ['/v1/batch', '/v1/import', '/v1/b'], shape: 'segment:batch', summary: 'Send a batch of Segment calls' },
  { paths: ['/v1/identify', '/v1/i'], shape: 'segment:identify', summary: 'Segment identify' },
  { paths: ['/v1/page', '/v1/p'], shape: 'segment:page', summary: 'Segment page' },
  { paths: ['/v1/screen', '/v1/s'], shape: 'segment:screen', summary: 'Segment screen' },
  { paths: ['/v1/group', '/v1/g'], shape: 'segment:group', summary: 'Segment group' },
  { paths: ['/v1/alias', '/v1/a'], shape: 'segment:alias', summary: 'Segment alias' },
  { paths: ['/v1/t'], shape: 'segment:track', summary: 'Segment track (browser path; /v1/track reads Segment calls too)' },
]

/**
 * PostHog's capture API as posthog-node sends it (docs/segment.md, "PostHog"): its key is in the
 * body, so these routes have no auth preHandler; the collector reads the key before any event.
 */
export function posthogRoutes(scope: FastifyInstance, collector: Collector): string[] {
  const paths = ['/batch/', '/batch', '/capture/', '/capture']
  for (const path of paths) {
    const batch = path.startsWith('/batch')
    scope.post(
      path,
      {
        schema: {
          // posthog-node posts to /batch/ exactly; the document lists the paths without the slash (one operation each).
          hide: path.endsWith('/'),
          operationId: `posthog${batch ? 'Batch' : 'Capture'}${path.endsWith('/') ? 'Slash' : ''}`,
          summary: batch ? 'Send a batch of PostHog events' : 'Send one PostHog event',
          description: needs('write', 'PostHog\'s capture API (posthog-node); the key is `api_key` in the body, not a header. See docs/segment.md, "PostHog".'),
          tags: ['segment'],
        },
        config: { openapi: { body: POSTHOG_BODY, response: POSTHOG_RESPONSES } },
      },
      (req, reply) => collector.handle(req, reply, 'posthog'),
    )
  }
  return paths
}

/** Registers the Segment routes; returns their paths (browsers post to them: CORS, browser-access.ts). */
export function segmentSpecRoutes(scope: FastifyInstance, collector: Collector, write: preHandlerAsyncHookHandler): string[] {
  for (const r of ROUTES) {
    const batch = r.shape === 'segment:batch'
    for (const path of r.paths) {
      const short = path.length <= 5
      scope.post(
        path,
        {
          preHandler: write,
          schema: {
            operationId: `segment${path.slice(4, 5).toUpperCase()}${path.slice(5)}`,
            summary: r.summary,
            description: needs(
              'write',
              `${batch ? 'A Segment batch' : 'One Segment call'}, read into events as docs/segment.md says; HTTP Basic with the write key as user name.${short ? " The path Segment's browser library uses." : ''}`,
            ),
            tags: ['segment'],
          },
          config: { openapi: { body: batch ? SEGMENT_BATCH_BODY : SEGMENT_CALL_BODY, response: SEGMENT_RESPONSES } },
        },
        (req, reply) => collector.handle(req, reply, r.shape),
      )
    }
  }
  return ROUTES.flatMap((r) => r.paths)
}
