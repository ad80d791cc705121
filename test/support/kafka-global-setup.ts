import type { TestProject } from 'vitest/node'
import { leaseBroker } from '../../scripts/kafka/lease.ts'

/*
 * `npm test` on a machine where nobody started Kafka: start the broker of scripts/kafka/start.sh
 * (fetching it from Maven Central the first time) and stop it again at the end. A broker that was
 * already running (CI's, a developer's) is left alone, and several test runs in one checkout share
 * one broker (scripts/kafka/lease.ts). A broker that cannot start does not abort the whole run: the
 * Kafka tests fail with start.sh's output (provided as kafkaStartError) and every other test runs.
 */

declare module 'vitest' {
  export interface ProvidedContext {
    kafkaStartError: string
  }
}

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  project.provide('kafkaStartError', '')
  // Tests pointed at another broker (TAGSTREAM_TEST_KAFKA) bring their own.
  if (process.env.TAGSTREAM_TEST_KAFKA) return undefined
  const lease = await leaseBroker()
  project.provide('kafkaStartError', lease.error)
  return () => lease.release()
}
