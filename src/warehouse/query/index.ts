export { toJson, type JsonValue } from './convert.ts'
export { formatResult, type OutputFormat } from './format.ts'
export { READ_ONLY_MESSAGE } from './guard.ts'
export { VIEW_NAMES } from './build-views.ts'
export {
  openWarehouse,
  QUERY_DEFAULTS,
  type QueryColumn,
  type QueryOptions,
  type QueryResult,
  type Warehouse,
  type WarehouseOptions,
} from './warehouse.ts'
export { QueryError, type QueryErrorCode } from './query-error.ts'
