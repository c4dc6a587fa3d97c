import { defineConfig } from 'vitest/config'

// The browser tests start a real igord and a headless Chromium: one file at a time, generous time.
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 180_000,
    hookTimeout: 120_000
  }
})
