import { PREDICTION_SCORES, PREDICTION_VERSION_FIELD } from '../../events/prediction.ts'
import { col, ident, TIMESTAMPTZ } from './views.ts'

/*
 * The `predictions` view (docs/warehouse.md, docs/predictions.md): the daily scoring run's output,
 * one row per prediction event the sink filed under `event=$prediction`. The scores are the
 * event's properties, flattened by the sink into columns of their own; a score the run did not
 * publish was sent as null, which makes no column, so it reads as NULL here. Every column is
 * declared, so the view has the same shape before the first run, and a file that typed a column
 * otherwise is read through TRY_CAST like every other view (views.ts).
 */

/** The view's columns, in order: `scored_at` is the event's `ts`. */
export const PREDICTION_COLUMNS: ReadonlyArray<readonly [string, string]> = [
  ['tenant', 'VARCHAR'],
  ['user_id', 'VARCHAR'],
  ['scored_at', TIMESTAMPTZ],
  ...PREDICTION_SCORES.map((score) => [score, 'DOUBLE'] as const),
  [PREDICTION_VERSION_FIELD, 'VARCHAR'],
  ['event_id', 'VARCHAR'],
  ['dt', 'DATE'],
]

/** Where each view column comes from in the event files (the rest are the property of the same name). */
const SOURCE_COLUMN: Readonly<Record<string, string>> = { scored_at: 'ts' }

/** The view's SELECT over `source` (read_parquet of the prediction files, hive partitioning on), whose columns are `have`. */
export function predictionsSelect(have: ReadonlyMap<string, string>, source: string): string {
  const items = PREDICTION_COLUMNS.map(([name, type]) => `${col(have, SOURCE_COLUMN[name] ?? name, type)} AS ${ident(name)}`)
  return `SELECT ${items.join(', ')} FROM ${source}`
}
