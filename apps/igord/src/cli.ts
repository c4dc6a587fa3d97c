#!/usr/bin/env node
import { prewarmWorker, startsANode } from './early-start.js'
import { ignoreBrokenStdio } from './stdio.js'

// node:wasi is marked experimental on Node 20; users should not see that warning.
process.removeAllListeners('warning')
process.on('warning', (warning) => {
  if (warning.name === 'ExperimentalWarning' && /WASI/.test(warning.message)) return
  process.stderr.write(`${warning.name}: ${warning.message}\n`)
})

// Issue 8, point 8: a closed or broken stdout/stderr never kills the node, and an
// internal error always ends the process with a non-zero code — never a
// half-alive node that still holds its socket, workers or network.
ignoreBrokenStdio()
const internalError = (error: unknown): never => {
  try {
    process.stderr.write(`igord: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
  } catch {
    // stderr is gone; the exit code still says it
  }
  process.exit(70)
}
process.on('uncaughtException', internalError)
process.on('unhandledRejection', internalError)

// Issue 21 item 5: a starting node's first worker thread boots while the rest of igord loads (early-start.ts).
const argv = process.argv.slice(2)
if (startsANode(argv)) await prewarmWorker()
const { main } = await import('./main.js')

main(argv).then(
  (code) => {
    process.exitCode = code
    // Once main has resolved the node has stopped (final checkpoints written) and every line is out
    // (the logs and stdio are synchronous): exit now. A worker thread still tearing down kept the
    // process alive about a second after "stopped" (issue 22: prompt exit).
    setImmediate(() => process.exit(code))
  },
  internalError
)
