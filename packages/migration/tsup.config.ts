import { defineConfig } from 'tsup'

export default defineConfig({
  // observer: a libp2p-free entry (igord's metrics load it on the start path); one shared chunk keeps one registry.
  entry: ['src/index.ts', 'src/observer.ts'],
  format: ['esm'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20'
})
