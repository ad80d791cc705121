export { DEFAULT_STORE_ENGINE_OPTIONS, StoreEngineClient, type StoreEngineOptions } from './store-engine-client.ts'
export { SegmentsReadOnlyError } from './read-only.ts'
export { openCollectorEngine } from './open.ts'
