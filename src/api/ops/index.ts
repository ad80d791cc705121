export { partitionLag, refreshEngineGauges, totalLag } from './engine-gauges.ts'
export { observeHttpDuration, routeLabel, UNMATCHED_ROUTE } from './http-duration.ts'
export { readiness, type Readiness, type ReadinessBody } from './readiness.ts'
