// SPEC §12: the reference's newest subcommands, flags before and after positionals.
import { describe, expect, it } from 'vitest'
import { UsageError, parseCommand } from './args.js'
import type { StartOptions } from './args.js'

describe('run / resume / verify / inspect', () => {
  it('run <wasm> is start --run-agent <wasm>, flags on either side', () => {
    for (const argv of [['run', 'a.wasm', '--agent-id', 'x', '--lease-duration', '2s'], ['run', '--agent-id', 'x', '--lease-duration', '2s', 'a.wasm']]) {
      const command = parseCommand(argv) as StartOptions
      expect(command.kind).toBe('start')
      expect(command.agents).toEqual([{ wasmPath: 'a.wasm', agentId: 'x' }])
      expect(command.lease?.durationMs).toBe(2000)
      expect(command.resume).toBeUndefined()
    }
    expect(() => parseCommand(['run'])).toThrow(UsageError)
    expect(() => parseCommand(['run', 'a.wasm', 'b.wasm'])).toThrow(/unexpected argument/)
  })

  it('resume <checkpoint> --wasm <wasm> [--identity f], or the reference\'s --checkpoint form', () => {
    const a = parseCommand(['resume', 'c.ckpt', '--wasm', 'a.wasm', '--identity', 'a.identity']) as StartOptions
    expect(a.agents).toEqual([{ wasmPath: 'a.wasm' }])
    expect(a.resume).toEqual({ checkpointPath: 'c.ckpt', identityPath: 'a.identity' })
    const b = parseCommand(['resume', '--wasm', 'a.wasm', '--checkpoint', 'c.ckpt', '--data-dir', 'd']) as StartOptions
    expect(b.resume).toEqual({ checkpointPath: 'c.ckpt' })
    expect(b.dataDir).toBe('d')
    expect(() => parseCommand(['resume', 'c.ckpt'])).toThrow(/--wasm/)
    expect(() => parseCommand(['resume', '--wasm', 'a.wasm'])).toThrow(/needs a checkpoint/)
    expect(() => parseCommand(['resume', 'c.ckpt', '--checkpoint', 'd.ckpt', '--wasm', 'a.wasm'])).toThrow(/once/)
  })

  it('verify takes several directories; inspect takes --wasm and --json on either side', () => {
    expect(parseCommand(['verify', 'a', '--log-level', 'warn', 'b', 'c'])).toEqual({ kind: 'verify', dirs: ['a', 'b', 'c'], json: false })
    expect(() => parseCommand(['verify'])).toThrow(UsageError)
    expect(parseCommand(['inspect', '--json', 'c.ckpt', '--wasm', 'a.wasm'])).toEqual({ kind: 'inspect', checkpointPath: 'c.ckpt', wasmPath: 'a.wasm', json: true })
    expect(parseCommand(['inspect', 'c.ckpt'])).toEqual({ kind: 'inspect', checkpointPath: 'c.ckpt', wasmPath: null, json: false })
  })
})
