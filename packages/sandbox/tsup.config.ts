import { defineConfig } from 'tsup'

// The agent worker is its own entry: it is loaded by URL into a worker thread.
export default defineConfig({
  entry: ['src/index.ts', 'src/agent-worker.ts'],
  format: ['esm'],
  dts: { entry: 'src/index.ts' },
  sourcemap: true,
  clean: true,
  target: 'node20'
})
