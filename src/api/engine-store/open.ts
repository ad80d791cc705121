import { engineOptions } from '../../engine/engine-options.ts'
import { prepareRules } from '../../engine/engine-rules.ts'
import { loadRulesSource } from '../../engine/rules-source.ts'
import type { EventLog } from '../../log/event-log.ts'
import type { Logger } from '../../logger.ts'
import { openStateStore } from '../../state/open-state.ts'
import type { StateStore } from '../../state/state-store.ts'
import { StoreEngineClient, type StoreEngineOptions } from './store-engine-client.ts'

/**
 * The engine side of `serve --no-engine`: the state store (shared with the game API) and a client
 * reading the workers' checkpoints. Rules are compiled before the store is opened, so a bad segments
 * file fails with its line and column. On failure the log is closed, as the engine path does.
 */
export async function openCollectorEngine(
  c: { log: EventLog; stateUrl: string; partitions: number; rulesPath: string; logger: Logger },
  options: Partial<StoreEngineOptions> = {},
): Promise<{ engine: StoreEngineClient; store: StateStore }> {
  let store: StateStore | null = null
  try {
    const engine = engineOptions()
    const rules = prepareRules(loadRulesSource(c.rulesPath), engine)
    store = await openStateStore(c.stateUrl, { logger: c.logger })
    return { engine: await StoreEngineClient.start({ log: c.log, store, partitions: c.partitions, rules, engine, logger: c.logger }, options), store }
  } catch (err) {
    await store?.close()
    await c.log.close()
    throw err
  }
}
