import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Crash and end-to-end tests spawn processes and bind ports; two cores are all we have.
    maxWorkers: 2,
    // Starts the Kafka broker for the Kafka adapter's tests when none is running (and stops it after).
    globalSetup: ['test/support/kafka-global-setup.ts'],
  },
})
