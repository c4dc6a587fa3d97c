// Issue 21 item 5: which command lines warm a worker thread before igord's modules load.
import { describe, expect, it } from 'vitest'
import { parseCommand } from './args.js'
import { startsANode } from './early-start.js'

describe('startsANode', () => {
  it('agrees with parseCommand on start command lines and on the others', () => {
    const lines: string[][] = [
      [], ['start'], ['--run-agent', 'a.wasm'], ['start', '--data-dir', 'd'], ['--', '--data-dir', 'd'],
      ['--help'], ['-h'], ['start', '--help'], ['--version'], ['start', '--version'],
      ['status'], ['help'], ['verify', 'x'], ['migrate', 'a', '--to', 'auto'], ['import', 'x.igor']
    ]
    for (const line of lines) {
      let starts = false
      try {
        starts = parseCommand(line).kind === 'start'
      } catch {
        starts = false
      }
      expect([line, startsANode(line)]).toEqual([line, starts])
    }
  })
})
