import type { AggregateFn } from '../../../rules/index.ts'
import { AvgWindow } from './avg.ts'
import { CountWindow } from './count.ts'
import { DistinctWindow } from './distinct.ts'
import { MaxWindow } from './max.ts'
import { MinWindow } from './min.ts'
import { SumWindow } from './sum.ts'
import type { WindowAggregateType } from './window-aggregate.ts'

/**
 * Every windowed aggregate by its name in the rule language. A new aggregate is a file beside
 * these plus its line here; the Record type makes a name in AggregateFn without a line a type error.
 */
export const WINDOW_AGGREGATES: Readonly<Record<AggregateFn, WindowAggregateType>> = {
  count: CountWindow,
  sum: SumWindow,
  avg: AvgWindow,
  min: MinWindow,
  max: MaxWindow,
  distinct: DistinctWindow,
}
