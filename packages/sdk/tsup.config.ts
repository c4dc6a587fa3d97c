import { defineConfig } from 'tsup'

export default defineConfig({
  entry: ['src/index.ts', 'src/test-host.ts', 'src/cli.ts'],
  format: ['esm'],
  dts: { entry: ['src/index.ts', 'src/test-host.ts'] },
  sourcemap: true,
  clean: true,
  target: 'node20',
  external: ['assemblyscript', 'assemblyscript/asc']
})
