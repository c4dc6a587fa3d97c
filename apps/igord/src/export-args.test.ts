import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { parseCommand } from './args.js'
import type { StartOptions } from './args.js'
import { liveAgentWarning } from './live-agent-warning.js'
import { Epoch } from '@igor/epoch'

let dir: string
beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'igord-export-args-')) })
afterEach(async () => { await rm(dir, { recursive: true, force: true }) })

describe('igord export / import / resume --force on the command line (SPEC §12)', () => {
  it('export needs an agent id and --out; --timeout defaults to 60s', () => {
    expect(parseCommand(['export', 'counter', '--out', 'f.igor', '--data-dir', 'd'])).toEqual({ kind: 'export', dataDir: 'd', agentId: 'counter', out: 'f.igor', json: false, timeoutMs: 60_000 })
    expect(parseCommand(['export', 'counter', '--out', 'f', '--timeout', '2s', '--json'])).toMatchObject({ json: true, timeoutMs: 2000 })
    expect(() => parseCommand(['export', '--out', 'f'])).toThrow(/needs an agent id/)
    expect(() => parseCommand(['export', 'counter'])).toThrow(/needs --out/)
    expect(parseCommand(['export', 'counter', '--out', 'f', '--with-history'])).toMatchObject({ kind: 'export', withHistory: true })
    expect(parseCommand(['export', 'counter', '--out', 'f'])).not.toHaveProperty('withHistory')
  })

  it('import takes the file and the start flags (a node starts with it when none runs)', () => {
    const command = parseCommand(['import', 'f.igor', '--data-dir', 'd', '--lease-duration', '0']) as { kind: string, file: string, start: StartOptions }
    expect(command.kind).toBe('import')
    expect(command.file).toBe('f.igor')
    expect(command.start).toMatchObject({ kind: 'start', dataDir: 'd', lease: null, importPackage: 'f.igor', agents: [] })
    expect(parseCommand(['import', 'f.igor', '--json'])).toMatchObject({ json: true, start: { importPackage: 'f.igor' } })
    expect(() => parseCommand(['import'])).toThrow(/needs the package/)
  })

  it('resume: --force is carried; an export package needs no --wasm', async () => {
    const force = parseCommand(['resume', 'c.ckpt', '--wasm', 'a.wasm', '--force']) as StartOptions
    expect(force.resume).toEqual({ checkpointPath: 'c.ckpt', force: true })
    expect((parseCommand(['resume', 'c.ckpt', '--wasm', 'a.wasm']) as StartOptions).resume?.force).toBeUndefined()
    const file = join(dir, 'x.igor')
    await writeFile(file, '{"Package":{}}\n')
    expect(parseCommand(['resume', file])).toMatchObject({ kind: 'import', file, start: { importPackage: file, agents: [] } })
    await writeFile(file, Uint8Array.of(4, 0, 0))
    expect(() => parseCommand(['resume', file])).toThrow(/--wasm/)
  })

  it('the refusal line is the SPEC\'s, word for word', () => {
    expect(liveAgentWarning({ epoch: new Epoch(3n, 7n), leaseExpiry: 1_700_000_000_000_000_000n })).toBe(
      'this checkpoint may belong to a live agent (epoch (3,7), lease until 2023-11-14T22:13:20Z): export it on its node with \'igord export\', or pass --force if that node is gone for good'
    )
    expect(liveAgentWarning({ epoch: Epoch.ZERO, leaseExpiry: 0n })).toMatch(/lease until \(none\)\)/)
  })
})
