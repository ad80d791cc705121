import { Admin } from '@platformatic/kafka'

/** The broker of scripts/kafka/start.sh; test/support/kafka-global-setup.ts starts it when it is not running. */
export const TEST_BROKER = process.env.TAGSTREAM_TEST_KAFKA ?? `127.0.0.1:${process.env.KAFKA_PORT ?? 9092}`

/** Deletes every topic a test created under `prefix`, so a long-lived local broker does not fill up. */
export async function dropTopics(prefix: string, broker: string = TEST_BROKER): Promise<void> {
  const admin = new Admin({ clientId: 'tagstream-test-cleanup', bootstrapBrokers: [broker] })
  try {
    const mine = (await admin.listTopics()).filter((t) => t.startsWith(prefix))
    if (mine.length > 0) await admin.deleteTopics({ topics: mine })
  } finally {
    await admin.close()
  }
}
