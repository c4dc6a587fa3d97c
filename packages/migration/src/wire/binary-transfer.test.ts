// SPEC §7 `/igor/migrate/2.0.0`: the binary hand-off's encoder and reader, round trips and hostile inputs.
import { createHash, randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { MigrationError } from '../errors.js'
import { decodeAgentTransfer, encodeAgentTransfer } from './agent-transfer.js'
import { encodeBinaryTransfer, partsLength } from './binary-encode.js'
import { readBinaryTransferFrom } from './binary-reader.js'
import { DEFAULT_DECODE_LIMITS } from './decode-limits.js'
import type { MemoryLedger } from './decode-limits.js'
import type { AgentTransfer } from './types.js'

const U64_MAX = (1n << 64n) - 1n
const I64_MAX = (1n << 63n) - 1n
const LIMITS = { maxBytes: 64 * 1024 * 1024, timeoutMs: 20_000 }

function transfer(extra: Partial<AgentTransfer['Package']> = {}): AgentTransfer {
  return {
    Package: {
      AgentID: 'survivor',
      WASMBinary: new Uint8Array(randomBytes(5000)),
      WASMHash: new Uint8Array(randomBytes(32)),
      Checkpoint: new Uint8Array(randomBytes(70_000)),
      ManifestData: new Uint8Array(Buffer.from('{"version":1}')),
      Budget: I64_MAX,
      PricePerSecond: 0n,
      ReplayData: { PreTickState: new Uint8Array(randomBytes(300)), TickNumber: U64_MAX, Entries: [{ HostcallID: 1, Payload: Uint8Array.of(1, 2, 3) }] },
      MajorVersion: U64_MAX,
      LeaseGeneration: (1n << 53n) + 1n,
      AgentIdentity: new Uint8Array(randomBytes(68)),
      ...extra
    },
    SourceNodeID: '12D3KooWExample'
  }
}

function join(parts: readonly Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts))
}

/** The message as a stream cut into `size`-byte chunks. */
async function * chunked(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < bytes.length; at += size) {
    if (at % (size * 64) === 0) await Promise.resolve()
    yield bytes.subarray(at, at + size)
  }
}

async function read(bytes: Uint8Array, size = 1 << 16, options: Partial<Parameters<typeof readBinaryTransferFrom>[1]> = {}): Promise<AgentTransfer> {
  return (await readBinaryTransferFrom(chunked(bytes, size), { ...LIMITS, ...options })).transfer
}

async function code(bytes: Uint8Array, options: Partial<Parameters<typeof readBinaryTransferFrom>[1]> = {}): Promise<string> {
  try {
    await read(bytes, 1 << 16, options)
  } catch (error) {
    if (error instanceof MigrationError) return `${error.code}: ${error.message}`
    throw error
  }
  throw new Error('read succeeded')
}

const u32 = (n: number): Uint8Array => { const b = Buffer.alloc(4); b.writeUInt32LE(n); return new Uint8Array(b) }
/** A message with a hand-made header and sections. */
function message(header: string, sections: Uint8Array[]): Uint8Array {
  const h = Buffer.from(header)
  return join([u32(h.length), h, ...sections.flatMap((s) => [u32(s.length), s])])
}
const SECTIONS = (w = 1, c = 1, p = 0, i = 0): string => `"Sections":{"WASMBinary":${w},"Checkpoint":${c},"PreTickState":${p},"AgentIdentity":${i}}`
const PKG = '"Package":{"AgentID":"a","WASMHash":"","ManifestData":"","Budget":1,"PricePerSecond":2},"SourceNodeID":"p"'

describe('/igor/migrate/2.0.0 wire', () => {
  it('round-trips every field, u64/i64 exact, whatever the chunking', async () => {
    const t = transfer()
    const bytes = join(encodeBinaryTransfer(t))
    for (const size of [1, 7, 4096, 1 << 20]) {
      const got = await read(bytes, size)
      expect(encodeAgentTransfer(got)).toEqual(encodeAgentTransfer(t))
    }
  }, 60_000)

  it('hashes the checkpoint as it arrives (its SPEC §12 content hash), whatever the chunking', async () => {
    const t = transfer()
    const bytes = join(encodeBinaryTransfer(t))
    const expected = createHash('sha256').update(t.Package.Checkpoint).digest()
    for (const size of [13, 65536]) {
      const { checkpointHash } = await readBinaryTransferFrom(chunked(bytes, size), LIMITS)
      expect(Buffer.from(checkpointHash ?? []).equals(expected)).toBe(true)
    }
  }, 60_000)

  it('round-trips 0 and 2^53+1, no replay data, no identity, receipts as JSON', async () => {
    const t = transfer({ Budget: 0n, PricePerSecond: (1n << 53n) + 1n, MajorVersion: 0n, LeaseGeneration: 0n })
    delete t.Package.ReplayData
    delete t.Package.AgentIdentity
    t.Package.Receipts = decodeAgentTransfer('{"Package":{"AgentID":"x","WASMBinary":"","WASMHash":"","Checkpoint":"","ManifestData":"","Budget":0,"PricePerSecond":0,"Receipts":"AAAAAA=="},"SourceNodeID":"p"}').Package.Receipts
    const got = await read(join(encodeBinaryTransfer(t)), 3)
    expect(got.Package.ReplayData).toBeUndefined()
    expect(got.Package.AgentIdentity).toBeUndefined()
    expect(encodeAgentTransfer(got)).toEqual(encodeAgentTransfer(t))
  })

  it('writes the big fields as the caller\'s buffers, not copies, in the README order', () => {
    const t = transfer()
    const parts = encodeBinaryTransfer(t)
    expect(parts[3]).toBe(t.Package.WASMBinary)
    expect(parts[5]).toBe(t.Package.Checkpoint)
    expect(parts[7]).toBe(t.Package.ReplayData?.PreTickState)
    expect(parts[9]).toBe(t.Package.AgentIdentity)
    expect(partsLength(parts)).toBe(join(parts).length)
    const header = Buffer.from(parts[1] as Uint8Array).toString('utf8')
    expect(header).not.toMatch(/"WASMBinary":"|"Checkpoint":"|"PreTickState":"|"AgentIdentity":"/)
    expect(header).toContain('"MajorVersion":18446744073709551615')
  })

  it('skips unknown header keys unbuilt, as 1.0.0 does', async () => {
    const got = await read(message(`{"Future":{"x":[1,2,{"y":null}]},${PKG},${SECTIONS()}}`, [Uint8Array.of(0), Uint8Array.of(3), new Uint8Array(0), new Uint8Array(0)]))
    expect(got.Package.AgentID).toBe('a')
    expect(got.Package.WASMBinary).toEqual(Uint8Array.of(0))
  })

  describe('hostile inputs, each refused with a code', () => {
    const ok = [Uint8Array.of(0), Uint8Array.of(3), new Uint8Array(0), new Uint8Array(0)]
    it('header length 2^32-1: refused before a byte of it is read', async () => {
      expect(await code(join([u32(0xffffffff), Buffer.from('{')]))).toMatch(/^TRANSFER_TOO_LARGE: read: a 2.0.0 header of 4294967295 bytes exceeds/)
    })
    it('header length 0', async () => {
      expect(await code(u32(0))).toMatch(/^BAD_TRANSFER: AgentTransfer: empty 2.0.0 header/)
    })
    it('garbage JSON header', async () => {
      expect(await code(message('{"Package": nope}', ok))).toMatch(/^BAD_TRANSFER: /)
      expect(await code(message(`{${PKG},${SECTIONS()}} trailing`, ok))).toMatch(/^BAD_TRANSFER: .*unexpected data after the value/)
      expect(await code(message(`{${PKG}`, ok))).toMatch(/^BAD_TRANSFER: /)
    })
    it('a header without Sections, or with a section field inside it', async () => {
      expect(await code(message(`{${PKG}}`, ok))).toMatch(/^BAD_TRANSFER: AgentTransfer.Sections: missing/)
      const withWasm = `{"Package":{"AgentID":"a","WASMBinary":"AA==","WASMHash":"","ManifestData":"","Budget":1,"PricePerSecond":2},"SourceNodeID":"p",${SECTIONS()}}`
      expect(await code(message(withWasm, ok))).toMatch(/^BAD_TRANSFER: AgentTransfer.Package.WASMBinary: not allowed in a 2.0.0 header/)
      expect(await code(message(`{${PKG},"Sections":{"WASMBinary":4294967296,"Checkpoint":1,"PreTickState":0,"AgentIdentity":0}}`, ok))).toMatch(/^BAD_TRANSFER: .*uint32/)
    })
    it('a section length that disagrees with the header', async () => {
      expect(await code(message(`{${PKG},${SECTIONS(1, 2)}}`, ok))).toMatch(/^BAD_TRANSFER: AgentTransfer.Package.Checkpoint: section of 1 bytes, the header declared 2/)
    })
    it('a declared section larger than what may remain (the byte cap)', async () => {
      expect(await code(message(`{${PKG},${SECTIONS(1, 0xffffffff)}}`, ok))).toMatch(/^TRANSFER_TOO_LARGE: read: message of \d+ bytes \(declared\) exceeds/)
    })
    it('a section over its limit (identity), or over the memory ceiling', async () => {
      expect(await code(message(`{${PKG},${SECTIONS(1, 1, 0, DEFAULT_DECODE_LIMITS.maxIdentityBytes + 1)}}`, ok))).toMatch(/^TRANSFER_TOO_LARGE: AgentTransfer.Package.AgentIdentity/)
      const ledger: MemoryLedger = { take: (n) => { if (n > 1000) throw new MigrationError('TRANSFER_TOO_LARGE', 'over the ceiling') }, give: () => {} }
      expect(await code(message(`{${PKG},${SECTIONS(1, 5000)}}`, ok), { ledger })).toMatch(/^TRANSFER_TOO_LARGE: over the ceiling/)
    })
    it('PreTickState bytes without ReplayData', async () => {
      expect(await code(message(`{${PKG},${SECTIONS(1, 1, 2)}}`, ok))).toMatch(/^BAD_TRANSFER: .*PreTickState/)
    })
    it('a truncated section, an empty stream, a cut prefix', async () => {
      const whole = join(encodeBinaryTransfer(transfer()))
      expect(await code(whole.subarray(0, whole.length - 100))).toMatch(/^TRANSFER_TRUNCATED: read: stream ended in the PreTickState section/)
      expect(await code(whole.subarray(0, 2))).toMatch(/^TRANSFER_TRUNCATED/)
      expect(await code(new Uint8Array(0))).toMatch(/^TRANSFER_EMPTY/)
    })
    it('a header over the transfer cap', async () => {
      expect(await code(message(`{${PKG},${SECTIONS()}}`, ok), { maxBytes: 20 })).toMatch(/^TRANSFER_TOO_LARGE: read: a 2.0.0 header of \d+ bytes exceeds 20/)
    })
    it('a silent peer: timeout', async () => {
      async function * silent (): AsyncGenerator<Uint8Array> { yield u32(10); await new Promise(() => {}) }
      await expect(readBinaryTransferFrom(silent(), { maxBytes: 1000, timeoutMs: 200 })).rejects.toMatchObject({ code: 'TRANSFER_TIMEOUT' })
    })
  })
})
