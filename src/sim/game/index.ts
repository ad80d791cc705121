export * from './catalog.ts'
export * from './options.ts'
export * from './requests.ts'
