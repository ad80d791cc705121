export { checkBackpressure, maxEngineLag, type BackpressureLimits } from './backpressure.ts'
export { listDeadLetters, parseDeadLetterQuery, DEFAULT_PAGE, MAX_PAGE, MAX_RAW, type DeadLetterItem, type DeadLetterPage, type DeadLetterQuery } from './dead-letter-list.ts'
export { Collector, type CollectorRoute } from './handler.ts'
