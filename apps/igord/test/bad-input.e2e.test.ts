import { access, copyFile, mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { agentPath } from '@igor/agents'
import { describe, expect, it } from 'vitest'
import { runCli, useNodes } from './harness.js'
import { agentWat, writeWat } from './wat.js'

const { nodes, dir } = useNodes()

/** SPEC §10: one line naming the problem, non-zero exit, no stack trace. */
function expectOneLine(stderr: string, pattern: RegExp): void {
  const lines = stderr.trim().split('\n')
  expect(lines[0]).toMatch(pattern)
  expect(stderr).not.toMatch(/\n\s+at /)
}

async function start(args: string[]): Promise<{ code: number | null, stderr: string }> {
  const node = nodes.start(join(dir.path, 'data'), args)
  const { code } = await node.exited
  return { code, stderr: node.stderr }
}

describe('bad input gets a clear one-line answer and loses nothing (SPEC §10)', () => {
  it.each([
    [['--budget', '-1'], /^igord: --budget: must not be negative/],
    [['--budget', 'lots'], /^igord: --budget: not a non-negative amount/],
    [['--lease-duration', '10'], /^igord: --lease-duration: not a duration: "10"/],
    [['--lease-duration', 'soon'], /^igord: --lease-duration: not a duration/],
    [['--lease-renewal-window', '1'], /^igord: lease: renewalWindow must be strictly between 0 and 1/],
    [['--lease-renewal-window', '0'], /^igord: lease: renewalWindow/],
    [['--lease-grace', '-1s'], /^igord: --lease-grace: not a duration: "-1s"/],
    [['--price-per-second', '-5'], /^igord: --price-per-second: must be a whole number/],
    [['--no-such-flag'], /^igord: unknown flag --no-such-flag for igord \(see igord --help\)$/]
  ])('refuses %j before anything starts', async (args, message) => {
    const result = await runCli(['--data-dir', join(dir.path, 'data'), ...args])
    expect(result.code).toBe(2)
    expectOneLine(result.stderr, message)
    await expect(access(join(dir.path, 'data'))).rejects.toThrow() // nothing was created
  })

  it('refuses a missing wasm file, naming it', async () => {
    const result = await start(['--run-agent', join(dir.path, 'nope.wasm')])
    expect(result.code).toBe(1)
    expectOneLine(result.stderr, /^igord: .*nope\.wasm: no such file/)
  })

  it('refuses a file that is not WebAssembly', async () => {
    await writeFile(join(dir.path, 'text.wasm'), 'hello, not wasm')
    const result = await start(['--run-agent', join(dir.path, 'text.wasm')])
    expect(result.code).toBe(1)
    expectOneLine(result.stderr, /^igord: .*text\.wasm: not a WebAssembly module/)
  })

  it('refuses a module with a missing export, naming the export', async () => {
    const wasm = await writeWat(join(dir.path, 'partial.wasm'), agentWat({ omit: ['agent_checkpoint_ptr'] }))
    const result = await start(['--run-agent', wasm])
    expect(result.code).toBe(1)
    expectOneLine(result.stderr, /^igord: .*partial\.wasm: missing export "agent_checkpoint_ptr"/)
  })

  it('refuses an import of a capability the manifest does not declare', async () => {
    const wasm = await writeWat(join(dir.path, 'sneaky.wasm'), agentWat({ imports: '(import "igor" "clock_now" (func (result i64)))' }))
    const result = await start(['--run-agent', wasm])
    expect(result.code).toBe(1)
    expectOneLine(result.stderr, /^igord: .*sneaky\.wasm imports igor\.clock_now but the manifest does not declare capability "clock"/)
  })

  it.each([
    ['not JSON', '{"capabilities": ', /not valid JSON/],
    ['version < 1', '{"capabilities": {"clock": {"version": 0}}}', /capabilities\.clock\.version/],
    ['unknown capability', '{"capabilities": {"gps": {"version": 1}}}', /unknown capability "gps"/],
    ['memory above the node limit', '{"resource_limits": {"max_memory_bytes": 1073741824}}', /resource_limits\.max_memory_bytes/]
  ])('refuses a manifest with %s, naming the field', async (_what, manifest, message) => {
    await copyFile(agentPath('counter'), join(dir.path, 'agent.wasm'))
    await writeFile(join(dir.path, 'agent.manifest.json'), manifest)
    const result = await start(['--run-agent', join(dir.path, 'agent.wasm')])
    expect(result.code).toBe(1)
    expectOneLine(result.stderr, message)
  })

  it('refuses a truncated checkpoint and leaves it byte-identical', async () => {
    const data = join(dir.path, 'data')
    const node = await nodes.start(data, ['--run-agent', agentPath('counter')]).ready()
    await node.stop()
    const file = join(data, 'checkpoints', 'counter.checkpoint')
    const truncated = (await readFile(file)).subarray(0, 40)
    await writeFile(file, truncated)
    const result = await start(['--run-agent', agentPath('counter')])
    expect(result.code).toBe(1)
    expectOneLine(result.stderr, /^igord: .*counter\.checkpoint: .*too short|TOO_SHORT|truncated/i)
    expect(Buffer.compare(await readFile(file), truncated)).toBe(0)
  })

  it('refuses a foreign file in place of a checkpoint and leaves it byte-identical', async () => {
    const data = join(dir.path, 'data')
    await mkdir(join(data, 'checkpoints'), { recursive: true })
    const file = join(data, 'checkpoints', 'counter.checkpoint')
    const foreign = Buffer.from('%PDF-1.7 definitely not a checkpoint')
    await writeFile(file, foreign)
    const result = await start(['--run-agent', agentPath('counter')])
    expect(result.code).toBe(1)
    expectOneLine(result.stderr, /^igord: .*counter\.checkpoint: .*version/i)
    expect(Buffer.compare(await readFile(file), foreign)).toBe(0)
  })

  it('refuses to resume with a different binary, naming both hashes', async () => {
    const data = join(dir.path, 'data')
    const node = await nodes.start(data, ['--run-agent', agentPath('counter'), '--agent-id', 'x']).ready()
    await node.stop()
    const before = await readFile(join(data, 'checkpoints', 'x.checkpoint'))
    const result = await start(['--run-agent', agentPath('survivor'), '--agent-id', 'x'])
    expect(result.code).toBe(1)
    expectOneLine(result.stderr, /^igord: .*[0-9a-f]{64}.*[0-9a-f]{64}/)
    expect(Buffer.compare(await readFile(join(data, 'checkpoints', 'x.checkpoint')), before)).toBe(0)
  })

  it('refuses an agent id that could escape the data directory', async () => {
    const result = await runCli(['--data-dir', join(dir.path, 'data'), '--run-agent', agentPath('counter'), '--agent-id', '../escape'])
    expect(result.code).toBe(2)
    expectOneLine(result.stderr, /^igord: .*"\.\.\/escape"/)
  })
})
