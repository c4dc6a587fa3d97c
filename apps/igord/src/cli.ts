#!/usr/bin/env node
import { main } from './main.js'

// node:wasi is marked experimental on Node 20; users should not see that warning.
process.removeAllListeners('warning')
process.on('warning', (warning) => {
  if (warning.name === 'ExperimentalWarning' && /WASI/.test(warning.message)) return
  process.stderr.write(`${warning.name}: ${warning.message}\n`)
})

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code },
  (error: unknown) => {
    process.stderr.write(`igord: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
    process.exitCode = 70
  }
)
