// SPEC §15 audit through the BUILT CLI (dist/cli.js) on real files:
// `igor-inspect --receipts <file> [--checkpoint <file>] [--payments <file>] [--json]`.
// Fixtures are written byte by byte and signed with node:crypto (this app
// depends on @igor/inspector only).
import { spawnSync } from 'node:child_process'
import { createPrivateKey, sign } from 'node:crypto'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url))
const PKCS8_ED25519 = Buffer.from('302e020100300506032b657004220420', 'hex')
const keyOf = (seedHex: string): ReturnType<typeof createPrivateKey> =>
  createPrivateKey({ key: Buffer.concat([PKCS8_ED25519, Buffer.from(seedHex, 'hex')]), format: 'der', type: 'pkcs8' })

// Node A: the RFC 8032 test-1 key and its peer id (SPEC §15); node B: seed 07×32.
const A = { key: keyOf('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60'), id: '12D3KooWQK1wnefoLrcVHbbnf5tLzbopUd3K3bFAoJpA7YJgL5pV' }
const B = { key: keyOf('07'.repeat(32)), id: '12D3KooWRawPbxPtP1eZaJpumGnyWX2DcUyd3RQnydr3eAto4Az7' }
const T0 = 1_700_000_000_123_456_789n

// The SPEC §15 wallet_pay vector (the test-1 key as the agent's): 100000 to paywall-provider.
const PAYMENT_VECTOR =
  'a08601000000000015cd853dfe9c97171000000070617977616c6c2d70726f7669646572130000007072656d69756d2d646174612d616363657373d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511abe20726282c1947e5f66101ad3524d9666fad5334546ac354002d84ba466a4621cf1e4c30107728fd6ec28d0a900c4a82b30a961d43cd598e460b12ee2600d02'

const u32 = (n: number): Buffer => {
  const b = Buffer.alloc(4)
  b.writeUInt32LE(n)
  return b
}
const i64 = (n: bigint): Buffer => {
  const b = Buffer.alloc(8)
  b.writeBigInt64LE(n)
  return b
}
const str = (s: string): Buffer => Buffer.concat([u32(Buffer.byteLength(s)), Buffer.from(s)])

/** signData ‖ u32 64 ‖ Ed25519(node key, signData). */
function receipt(node: typeof A, start: bigint, end: bigint, cost: bigint, after: bigint, time: bigint): Buffer {
  const signData = Buffer.concat([str('survivor'), str(node.id), i64(start), i64(end), i64(cost), i64(after), i64(time)])
  return Buffer.concat([signData, u32(64), sign(null, signData, node.key)])
}
const blob = (items: Buffer[]): Buffer => Buffer.concat([u32(items.length), ...items.flatMap((item) => [u32(item.length), item])])

/** A v0x03 checkpoint with this budget and tick. */
function checkpoint(budget: bigint, tick: bigint): Buffer {
  const bytes = Buffer.alloc(81 + 1)
  bytes[0] = 3
  bytes.writeBigInt64LE(budget, 1)
  bytes.writeBigInt64LE(1000n, 9)
  bytes.writeBigUInt64LE(tick, 17)
  bytes.writeBigUInt64LE(2n, 57)
  return bytes
}

// Ticks 1…5 on A, 6…10 on B, 11…12 on A; the agent started with 1 000 000 and paid
// 100 000 during its first stay on A (the payment's time is the first receipt's).
const R = [
  receipt(A, 1n, 5n, 5000n, 895_000n, T0),
  receipt(B, 6n, 10n, 4200n, 890_800n, T0 + 5_000_000_000n),
  receipt(A, 11n, 12n, 2000n, 888_800n, T0 + 7_000_000_000n)
]
const FINAL = 1_000_000n - 11_200n - 100_000n

let dir = ''
const file = (name: string): string => join(dir, name)
function run(...args: string[]): { code: number | null, stdout: string, stderr: string } {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' })
  return { code: result.status, stdout: result.stdout, stderr: result.stderr }
}
function expectOneLineFailure(result: ReturnType<typeof run>, code: number, pattern: RegExp): void {
  expect(result.code).toBe(code)
  expect(result.stdout).toBe('')
  const lines = result.stderr.trimEnd().split('\n')
  expect(lines[0]).toMatch(/^igor-inspect: /)
  expect(lines[0]).toMatch(pattern)
  expect(lines.length).toBe(code === 2 ? 2 : 1)
  expect(result.stderr).not.toMatch(/\n\s+at /)
}

beforeAll(() => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`pnpm --filter @igor/inspect build\` first`)
  dir = mkdtempSync(join(tmpdir(), 'igor-inspect-receipts-'))
  writeFileSync(file('survivor.receipts'), blob(R))
  writeFileSync(file('survivor.payments'), blob([Buffer.from(PAYMENT_VECTOR, 'hex')]))
  writeFileSync(file('survivor.checkpoint'), checkpoint(FINAL, 12n))
  writeFileSync(file('short.checkpoint'), checkpoint(FINAL - 1n, 12n))
  const tampered = blob(R)
  tampered[tampered.length - 1] = (tampered[tampered.length - 1] as number) ^ 0x80 // receipt 2's last signature byte
  writeFileSync(file('tampered.receipts'), tampered)
  writeFileSync(file('overlap.receipts'), blob([R[0] as Buffer, receipt(B, 5n, 9n, 0n, 895_000n, T0 + 1n)]))
  writeFileSync(file('garbage.receipts'), Buffer.from('not a receipts file\n'))
  writeFileSync(file('garbage.checkpoint'), Buffer.of(9, 9, 9))
})
afterAll(() => {
  if (dir !== '') rmSync(dir, { recursive: true, force: true })
})

describe('igor-inspect --receipts', () => {
  it('VALID: prints every receipt, the cost per node, conservation, and exits 0', () => {
    const r = run('--receipts', file('survivor.receipts'), '--payments', file('survivor.payments'), '--checkpoint', file('survivor.checkpoint'))
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/^Receipt Audit\n=============\n\nAgent: {12}survivor\n/)
    expect(r.stdout).toContain(`  [0] ticks 1→5  cost 5000  budget after 895000  at 2023-11-14T22:13:20.123456789Z  node ${A.id}  signature VALID\n`)
    expect(r.stdout).toContain(`  ${A.id}  2 receipts  charged 7000\n  ${B.id}  1 receipts  charged 4200\n`)
    expect(r.stdout).toContain('  [0] 100000 to "paywall-provider"  memo "premium-data-access"  at 2023-11-14T22:13:20.123456789Z  signature VALID\n')
    expect(r.stdout).toContain(`Conservation:     1000000 initial (from the first receipt) − 11200 charged − 100000 paid = ${FINAL}; checkpoint budget ${FINAL}: OK\n`)
    expect(r.stdout.endsWith('\nReceipts: VALID (3 receipts from 2 nodes, charged 11200, paid 100000)\n')).toBe(true)
  })

  it('--json: the same facts, 64-bit values as exact strings', () => {
    const r = run('--receipts', file('survivor.receipts'), '--payments', file('survivor.payments'), '--checkpoint', file('survivor.checkpoint'), '--json')
    expect(r.code).toBe(0)
    const json = JSON.parse(r.stdout)
    expect(json.valid).toBe(true)
    expect(json.receipts[0]).toMatchObject({ nodeId: A.id, epochStart: '1', epochEnd: '5', timestampNs: '1700000000123456789', signatureValid: true })
    expect(json.conservation).toMatchObject({ initialBudget: '1000000', expectedBudget: FINAL.toString(), checkpointBudget: FINAL.toString(), ok: true })
    expect(json.problems).toEqual([])
  })

  it('INVALID: a tampered byte, exit 1 with one line per problem', () => {
    const r = run('--receipts', file('tampered.receipts'))
    expect(r.code).toBe(1)
    expect(r.stdout).toContain(`  [2] ticks 11→12  cost 2000  budget after 888800  at 2023-11-14T22:13:27.123456789Z  node ${A.id}  signature INVALID\n`)
    expect(r.stdout).toContain(`\nReceipts: INVALID\n  - receipt 2 (ticks 11…12): signature does not verify with the key of node ${A.id}\n`)
  })

  it('INVALID: overlapping ticks and a conservation mismatch', () => {
    const overlap = run('--receipts', file('overlap.receipts'))
    expect(overlap.code).toBe(1)
    expect(overlap.stdout).toContain('  - receipt 1: ticks 5…9 overlap receipt 0 (ticks 1…5)\n')
    const short = run('--receipts', file('survivor.receipts'), '--payments', file('survivor.payments'), '--checkpoint', file('short.checkpoint'))
    expect(short.code).toBe(1)
    expect(short.stdout).toContain(`  - conservation: initial budget 1000000 − charged 11200 − paid 100000 = ${FINAL}, but the checkpoint's budget is ${FINAL - 1n}\n`)
    // A given initial budget replaces the derived one.
    const given = run('--receipts', file('survivor.receipts'), '--payments', file('survivor.payments'), '--checkpoint', file('survivor.checkpoint'), '--initial-budget', '1000001')
    expect(given.code).toBe(1)
    expect(given.stdout).toContain('1000001 initial (given)')
  })
})

describe('igor-inspect --receipts: bad files and command lines', () => {
  it('garbage or unreadable files: one line naming the file, exit 1', () => {
    expectOneLineFailure(run('--receipts', file('garbage.receipts')), 1, new RegExp(`garbage\\.receipts: receipts blob says \\d+ entries but 20 bytes hold at most 4$`))
    expectOneLineFailure(run('--receipts', file('nope.receipts')), 1, /cannot read receipts .*nope\.receipts: no such file/)
    expectOneLineFailure(run('--receipts', dir), 1, /cannot read receipts .*: is a directory/)
    expectOneLineFailure(run('--receipts', file('survivor.receipts'), '--checkpoint', file('garbage.checkpoint')), 1, /garbage\.checkpoint: unsupported checkpoint version 0x09/)
    expectOneLineFailure(run('--receipts', file('survivor.receipts'), '--payments', file('survivor.receipts')), 1, /survivor\.receipts: payment 0: payment receipt /)
  })

  it('usage mistakes exit 2 with the reason and the usage line', () => {
    expectOneLineFailure(run('--receipts', file('survivor.receipts'), file('survivor.checkpoint')), 2, /unexpected argument .*with --receipts, name the checkpoint with --checkpoint/)
    expectOneLineFailure(run('--checkpoint', file('survivor.checkpoint')), 2, /--checkpoint needs --receipts/)
    expectOneLineFailure(run('--receipts', file('survivor.receipts'), '--initial-budget=-5'), 2, /--initial-budget must be a whole number of microcents/)
    expectOneLineFailure(run('--receipts', file('survivor.receipts'), '--initial-budget', '9223372036854775808'), 2, /--initial-budget must be/)
    expectOneLineFailure(run('--receipts', file('survivor.receipts'), '--wasm', 'x.wasm'), 2, /--wasm does not apply to --receipts/)
    expectOneLineFailure(run('--receipts'), 2, /--receipts/)
    expect(run('--receipts', file('survivor.receipts')).stderr).toBe('')
  })
})
