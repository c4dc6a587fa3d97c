// Runs the BUILT CLI (dist/cli.js) as a child process, the way a user does.
// Fixtures are written byte by byte: this app depends on @igor/inspector only.
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url))
const U64_MAX = (1n << 64n) - 1n
const WASM = Uint8Array.of(0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00)
const WASM_HASH = createHash('sha256').update(WASM).digest()

interface Fields {
  version: 2 | 3
  budget?: bigint
  price?: bigint
  tick?: bigint
  hash?: Uint8Array
  major?: bigint
  generation?: bigint
  expiry?: bigint
  state?: Uint8Array
}

function checkpoint(f: Fields): Uint8Array {
  const header = f.version === 3 ? 81 : 57
  const state = f.state ?? new Uint8Array(0)
  const bytes = new Uint8Array(header + state.length)
  const view = new DataView(bytes.buffer)
  bytes[0] = f.version
  view.setBigInt64(1, f.budget ?? 2_000_000n, true)
  view.setBigInt64(9, f.price ?? 1500n, true)
  view.setBigUint64(17, f.tick ?? 10n, true)
  bytes.set(f.hash ?? WASM_HASH, 25)
  if (f.version === 3) {
    view.setBigUint64(57, f.major ?? 3n, true)
    view.setBigUint64(65, f.generation ?? 7n, true)
    view.setBigInt64(73, f.expiry ?? 1_700_000_000_000_000_000n, true)
  }
  bytes.set(state, header)
  return bytes
}

// The SPEC §12 vector: signed as genesis by the RFC 8032 test-1 key.
const V4_VECTOR_HEX =
  '0480841e0000000000dc050000000000000a00000000000000c758436be87d535eaf52b682736f74d8988f1d61a064f1f0171521e1c8c03b8e' +
  '0300000000000000070000000000000000002a36fe9c9717' + '00'.repeat(32) +
  'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a' +
  'a74b7c09cc4351065e78b1348b763550d3762177186febf5251c69c58c180fd8ea6d97c84c83df9ecd2d589d00642aa38d7474dc99d822a86831ec0381fcbc02' +
  '0500000000000000'

let dir = ''
const file = (name: string): string => join(dir, name)

function run(...args: string[]): { code: number | null, stdout: string, stderr: string } {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' })
  return { code: result.status, stdout: result.stdout, stderr: result.stderr }
}

/** SPEC §8: non-zero exit, exactly one line on stderr naming the problem, no stack frames. */
function expectOneLineFailure(result: ReturnType<typeof run>, pattern: RegExp): void {
  expect(result.code).not.toBe(0)
  expect(result.stdout).toBe('')
  const lines = result.stderr.trimEnd().split('\n')
  expect(lines).toHaveLength(1)
  expect(lines[0]).toMatch(/^igor-inspect: /)
  expect(lines[0]).toMatch(pattern)
  expect(result.stderr).not.toMatch(/\n\s+at /)
}

beforeAll(() => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`pnpm --filter @igor/inspect build\` first`)
  dir = mkdtempSync(join(tmpdir(), 'igor-inspect-'))
  writeFileSync(file('v3.checkpoint'), checkpoint({ version: 3, state: new TextEncoder().encode('hello') }))
  writeFileSync(file('v2.checkpoint'), checkpoint({ version: 2, tick: U64_MAX, state: Uint8Array.of(0, 0xff) }))
  writeFileSync(file('max.checkpoint'), checkpoint({ version: 3, tick: U64_MAX, major: U64_MAX, generation: (1n << 53n) + 1n }))
  writeFileSync(file('v4.checkpoint'), Buffer.from(V4_VECTOR_HEX, 'hex'))
  writeFileSync(file('agent.wasm'), WASM)
  writeFileSync(file('other.wasm'), Uint8Array.of(1, 2, 3))
  writeFileSync(file('empty.checkpoint'), new Uint8Array(0))
  writeFileSync(file('v7.checkpoint'), Uint8Array.of(7, 1, 2, 3))
  writeFileSync(file('truncated.checkpoint'), checkpoint({ version: 3 }).subarray(0, 40))
  writeFileSync(file('negative.checkpoint'), checkpoint({ version: 3, budget: -1n }))
  mkdirSync(file('a-directory'))
})

afterAll(() => {
  if (dir !== '') rmSync(dir, { recursive: true, force: true })
})

describe('inspect CLI: reports', () => {
  it('prints the v0x03 text report and exits 0', () => {
    const r = run(file('v3.checkpoint'))
    expect(r.code).toBe(0)
    expect(r.stderr).toBe('')
    expect(r.stdout).toBe(
      'Checkpoint Inspector\n====================\n\n' +
      'Version:          3 (0x03)\n' +
      'Budget:           2.000000 (2000000 microcents)\n' +
      'Price/Second:     0.001500 (1500 microcents)\n' +
      'Tick Number:      10\n' +
      `WASM Hash:        ${WASM_HASH.toString('hex')}\n` +
      'Epoch:            (3,7)\n' +
      'Lease Expiry:     2023-11-14T22:13:20Z\n' +
      'Header Size:      81 bytes\n' +
      'Total Size:       86 bytes\n' +
      'State Size:       5 bytes\n\n' +
      'State Hex Dump:\n' +
      '  00000000  68 65 6c 6c 6f                                    |hello|\n'
    )
  })

  it('prints the v0x04 lineage lines and the DID (SPEC §12)', () => {
    const r = run(file('v4.checkpoint'))
    expect(r.code).toBe(0)
    expect(r.stdout).toContain(
      'Lease Expiry:     2023-11-14T22:13:20Z\n' +
      'Agent Identity:   d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a\n' +
      `Previous Hash:    ${'0'.repeat(64)}\n` +
      'Signature:        VALID\n' +
      'Header Size:      209 bytes\n'
    )
    expect(r.stdout.endsWith(
      '  00000000  05 00 00 00 00 00 00 00                           |........|\n' +
      'Agent DID:        did:key:z6MktwupdmLXVVqTzCw4i46r4uGyosGXRnR3XjN4Zq7oMMsw\n'
    )).toBe(true)
    const json = JSON.parse(run(file('v4.checkpoint'), '--json').stdout)
    expect(json.lineage.signatureValid).toBe(true)
    expect(json.lineage.agentDid).toBe('did:key:z6MktwupdmLXVVqTzCw4i46r4uGyosGXRnR3XjN4Zq7oMMsw')
  })

  it('prints the v0x02 text report without Epoch and Lease lines', () => {
    const r = run(file('v2.checkpoint'))
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('Version:          2 (0x02)\n')
    expect(r.stdout).toContain('Tick Number:      18446744073709551615\n')
    expect(r.stdout).toContain('Header Size:      57 bytes\n')
    expect(r.stdout).not.toContain('Epoch:')
    expect(r.stdout).not.toContain('Lease Expiry:')
    expect(r.stdout).toContain('\n  00000000  00 ff ')
  })

  it('prints one JSON object with 64-bit fields as exact strings', () => {
    const r = run(file('max.checkpoint'), '--json')
    expect(r.code).toBe(0)
    const json = JSON.parse(r.stdout)
    expect(json.version).toBe(3)
    expect(json.tickNumber).toBe('18446744073709551615')
    expect(json.epoch).toEqual({ majorVersion: '18446744073709551615', leaseGeneration: '9007199254740993' })
    expect(json.budget).toBe('2000000')
    expect(json.leaseExpiry).toBe('1700000000000000000')
    expect(json.headerSize).toBe(81)
    expect(json.wasmVerified).toBeNull()
  })

  it('verifies a matching WASM file and exits 0', () => {
    const r = run(file('v3.checkpoint'), '--wasm', file('agent.wasm'))
    expect(r.code).toBe(0)
    expect(r.stdout).toContain(`WASM Verified:    YES (matches ${file('agent.wasm')})\n`)
  })

  it('reports a WASM mismatch and exits 1', () => {
    const r = run(file('v3.checkpoint'), '--wasm', file('other.wasm'))
    expect(r.code).toBe(1)
    expect(r.stdout).toContain(`WASM Verified:    NO (mismatch with ${file('other.wasm')})\n`)
    expect(r.stdout).toContain('Checkpoint Inspector')
    // Issue 22: the report is the reference's; the actual hash is one line on stderr.
    expect(r.stdout).not.toContain('WASM Actual Hash')
    expect(r.stderr).toMatch(/^WASM Actual Hash: [0-9a-f]{64}\n$/)
    const json = run(file('v3.checkpoint'), '--json', '--wasm', file('other.wasm'))
    expect(json.code).toBe(1)
    expect(JSON.parse(json.stdout).wasmVerified.matches).toBe(false)
  })

  it('prints its version on --version and exits 0 (issue 22)', () => {
    const r = run('--version')
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/^igor-inspect \d+\.\d+\.\d+ \(node v\d+\.\d+\.\d+\)\n$/)
  })

  it('prints usage on --help and exits 0', () => {
    const r = run('--help')
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/^usage: igor-inspect <checkpoint>/)
  })
})

describe('inspect CLI: failures are one line, no stack trace', () => {
  it('missing checkpoint file', () => {
    expectOneLineFailure(run(file('nope.checkpoint')), /nope\.checkpoint: no such file/)
  })

  it('unreadable checkpoint (a directory)', () => {
    expectOneLineFailure(run(file('a-directory')), /a-directory: is a directory/)
  })

  it.skipIf(process.getuid?.() === 0)('unreadable checkpoint (no permission)', () => {
    writeFileSync(file('locked.checkpoint'), checkpoint({ version: 3 }))
    chmodSync(file('locked.checkpoint'), 0o000)
    expectOneLineFailure(run(file('locked.checkpoint')), /permission denied/)
  })

  it('empty file', () => {
    expectOneLineFailure(run(file('empty.checkpoint')), /empty\.checkpoint: checkpoint is empty/)
  })

  it('bad version', () => {
    expectOneLineFailure(run(file('v7.checkpoint')), /unsupported checkpoint version 0x07/)
  })

  it('truncated header', () => {
    expectOneLineFailure(run(file('truncated.checkpoint')), /have 40 bytes, need 81/)
  })

  it('negative budget', () => {
    expectOneLineFailure(run(file('negative.checkpoint')), /budget is negative/)
  })

  it('missing WASM file', () => {
    expectOneLineFailure(run(file('v3.checkpoint'), '--wasm', file('nope.wasm')), /cannot read wasm .*nope\.wasm: no such file/)
  })

  it('unknown flag: error line plus usage, exit 2', () => {
    const r = run(file('v3.checkpoint'), '--frobnicate')
    expect(r.code).toBe(2)
    const lines = r.stderr.trimEnd().split('\n')
    expect(lines).toEqual([
      "igor-inspect: Unknown option '--frobnicate'",
      'usage: igor-inspect <checkpoint> [--wasm <agent.wasm>] [--json] | --receipts <file> [--checkpoint <file>] [--payments <file>] ' +
        '[--initial-budget <microcents>] [--json] | --version'
    ])
  })

  it('no checkpoint argument, or two: exit 2', () => {
    expect(run().code).toBe(2)
    expect(run('--json').stderr).toMatch(/^igor-inspect: missing <checkpoint> argument\n/)
    expect(run(file('v3.checkpoint'), file('v2.checkpoint')).code).toBe(2)
    expect(run(file('v3.checkpoint'), '--wasm').code).toBe(2)
  })
})
