/* GET /v1/profiles/:user_id/export (src/api/routes/profile-export.ts, docs/privacy.md): one person's data as NDJSON. */
import { MAX_ID_LENGTH } from '../../events/envelope.ts'
import { AUTH_ERRORS, URI_TOO_LONG, errorResponse, retryResponse, textResponse } from './common.ts'

export const EXPORT_MEDIA_TYPE = 'application/x-ndjson'

export const EXPORT_RESPONSES = {
  200: textResponse(
    "NDJSON, one JSON object a line, each with `kind`: `export` (tenant, user_id, the person's ids, generated_at), `profile` (the live profile, when there is one), `event` (`source` `warehouse` or `log`), `segment_change`, `notification`, and last `end` with the counts. A body without the `end` line was cut short.",
    [EXPORT_MEDIA_TYPE],
  ),
  400: errorResponse(`\`invalid_request\`: the user id is empty or longer than ${MAX_ID_LENGTH} characters (\`field\`: user_id)`),
  ...AUTH_ERRORS,
  404: errorResponse("`not_found`: the key's tenant has no profile, event, segment change or notification for this id"),
  ...URI_TOO_LONG,
  503: retryResponse('`busy`: as many exports as the server runs at once are running; `engine_unavailable`: the engine thread is down or not answering'),
} as const
