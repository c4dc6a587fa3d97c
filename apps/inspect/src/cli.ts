#!/usr/bin/env node
import { main } from './index.js'

// `inspect x | head` closes the pipe early: stop quietly. Any other write
// failure still gets one line, never a stack trace (SPEC §8).
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') process.stderr.write(`inspect: cannot write output: ${error.message}\n`)
  process.exit(error.code === 'EPIPE' ? (process.exitCode ?? 0) : 1)
})

process.exitCode = await main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr })
