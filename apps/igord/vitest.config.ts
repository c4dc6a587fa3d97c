import { defineConfig } from 'vitest/config'

// End-to-end tests spawn real igord processes; on a 2-core machine they run one file at a time.
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 60_000
  }
})
