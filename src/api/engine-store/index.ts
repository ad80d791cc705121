export { DEFAULT_STORE_ENGINE_OPTIONS, StoreEngineClient, type StoreEngineOptions } from './store-engine-client.ts'
export { openCollectorEngine } from './open.ts'
