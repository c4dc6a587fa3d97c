import { defineConfig } from 'tsup'

export default defineConfig({
  entry: ['src/index.ts', 'src/cli.ts'],
  format: ['esm'],
  dts: { entry: 'src/index.ts' },
  sourcemap: true,
  clean: true,
  target: 'node20',
  // Issue 21 item 5: pino (29 CommonJS files, resolved, read and wrapped one by one) is bundled into the
  // chunk that logs: 30–70 ms less CPU to the first tick in two same-run A/Bs (bench/README.md "Restart,
  // second pass"). Its require()s of Node's built-ins need a real `require` in these ES modules. pino's
  // transports (thread-stream workers found by path) would not work bundled; igord uses none (pretty
  // output is pino-pretty as a stream, loaded from node_modules when asked for).
  noExternal: ['pino'],
  banner: { js: "import { createRequire as __igordCreateRequire } from 'node:module'; const require = __igordCreateRequire(import.meta.url);" }
})
