/** The document's tags, one per route family, in the order the UI lists them (redocly wants each described). */
export const DOCUMENT_TAGS = [
  { name: 'collector', description: 'Sending events, and the events refused (docs/collector.md). Scope `write` to send, `read` for dead letters.' },
  { name: 'segment', description: "The Segment tracking spec's routes, for Segment's and RudderStack's SDKs unchanged: HTTP Basic with the write key as user name (docs/segment.md). Scope `write`." },
  { name: 'profiles', description: "Users' live profiles: traits, counts, segments, window metrics. Scope `read`." },
  { name: 'privacy', description: "Erasing a person (a job to poll) and the audit trail of erases and exports (docs/privacy.md). Scope `admin` (the key's tenant) or `operator`." },
  { name: 'segments', description: 'Segment definitions, live sizes and members; changing a segment at run time (scope `operator`: the rules are shared by every tenant).' },
  { name: 'streams', description: 'Live segment changes and notifications as Server-Sent Events, resumable by cursor (docs/streams.md). Scope `read`.' },
  { name: 'warehouse', description: 'SQL over the Parquet warehouse (scope `admin`: the tenant of the key; `operator`: every tenant) and the named reports (scope `read`) (docs/warehouse.md).' },
  { name: 'game', description: 'The demo game backend: players, purchases, guilds and teams, each action one event (docs/game.md).' },
  { name: 'dashboard', description: 'The web dashboard and the read-only routes only it uses (docs/dashboard.md).' },
  { name: 'operations', description: 'Liveness, readiness and Prometheus metrics; no API key (docs/operations.md).' },
]
