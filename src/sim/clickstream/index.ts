export * from './catalog.ts'
export * from './options.ts'
export * from './sessions.ts'
export * from './partner-keys.ts'
