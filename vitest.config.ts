import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Crash and end-to-end tests spawn processes and bind ports; two cores are all we have.
    maxWorkers: 2,
    // Builds dist/ (tests start the compiled CLI), then starts the Kafka broker for the Kafka adapter's tests when none is running (and stops it after).
    globalSetup: ['test/support/build-global-setup.ts', 'test/support/kafka-global-setup.ts'],
  },
})
