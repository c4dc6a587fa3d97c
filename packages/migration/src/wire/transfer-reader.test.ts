import { randomBytes } from 'node:crypto'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { MigrationError } from '../errors.js'
import { decodeAgentTransfer, encodeAgentTransfer } from './agent-transfer.js'
import { DEFAULT_DECODE_LIMITS, ENTRY_OVERHEAD_BYTES } from './decode-limits.js'
import type { MemoryLedger } from './decode-limits.js'
import { readAgentTransferFrom } from './transfer-reader.js'
import type { AgentPackage, AgentTransfer, ReplayEntry } from './types.js'

function transfer(overrides: Partial<AgentPackage> = {}): AgentTransfer {
  return {
    Package: {
      AgentID: 'survivor',
      WASMBinary: new Uint8Array(randomBytes(3000)),
      WASMHash: new Uint8Array(32).fill(7),
      Checkpoint: new Uint8Array(randomBytes(1001)),
      ManifestData: new Uint8Array(Buffer.from('{"version":1}')),
      Budget: 1_000_000n,
      PricePerSecond: 1000n,
      MajorVersion: 3n,
      LeaseGeneration: 1n,
      ...overrides
    },
    SourceNodeID: '12D3KooWExample'
  }
}

function entries(n: number, payload = 8): ReplayEntry[] {
  return Array.from({ length: n }, (_, i) => ({ HostcallID: 1, Payload: new Uint8Array(payload).fill(i & 0xff) }))
}

/** The bytes cut into chunks of the given sizes (cycled), as a stream source. */
async function * chunked(bytes: Uint8Array, sizes: readonly number[]): AsyncGenerator<Uint8Array> {
  let at = 0
  for (let k = 0; at < bytes.length; k++) {
    const size = Math.max(1, sizes[k % sizes.length] as number)
    await Promise.resolve()
    yield bytes.subarray(at, at + size)
    at += size
  }
}

const read = async (source: AsyncIterable<Uint8Array>, ledger?: MemoryLedger): Promise<AgentTransfer> =>
  (await readAgentTransferFrom(source, { maxBytes: 64 * 1024 * 1024, timeoutMs: 30_000, ...(ledger !== undefined ? { ledger } : {}) })).transfer

async function refusal(promise: Promise<unknown>): Promise<MigrationError> {
  try {
    await promise
  } catch (error) {
    if (error instanceof MigrationError) return error
    throw error
  }
  throw new Error('expected a refusal')
}

describe('readAgentTransferFrom: decoded as it arrives (SPEC §7, "What a peer can and cannot do")', () => {
  it('gives what decodeAgentTransfer gives, whatever the chunk boundaries', async () => {
    const original = transfer({
      ReplayData: { PreTickState: new Uint8Array([1, 2, 3]), TickNumber: 9n, Entries: entries(20) },
      AgentIdentity: new Uint8Array(68).fill(5)
    })
    const text = Buffer.from(encodeAgentTransfer(original)).toString('utf8')
      .replace('{"Package":{', '{"Extra":[1,{"a":"\\u00e9\\"x"},-2.5e+3,true,null],"Package":{"Future":{"x":[[]]},')
      .replace('"WASMHash":"B', '"WASMHash":"\\u0042') // an escape inside base64, split anywhere
    const bytes = Buffer.from(text, 'utf8')
    const expected = decodeAgentTransfer(bytes)
    expect(expected.Package.WASMHash).toEqual(original.Package.WASMHash)
    await fc.assert(fc.asyncProperty(fc.array(fc.integer({ min: 1, max: 700 }), { minLength: 1, maxLength: 8 }), async (sizes) => {
      expect(await read(chunked(bytes, sizes))).toEqual(expected)
    }), { numRuns: 60 })
    expect(await read(chunked(bytes, [1]))).toEqual(expected)
  })

  it('refuses the same bad inputs with the same reasons, chunk by chunk', async () => {
    const good = Buffer.from(encodeAgentTransfer(transfer()))
    const cases = [
      good.toString().replace('"Budget":1000000', '"Budget":-1'),
      good.toString().replace('"Checkpoint":"', '"Checkpoint":"-'),
      good.toString().replace('{"Package":', '{"x":[1,2,{"a":tru}],"Package":'),
      good.toString().replace('"AgentID":"survivor"', '"AgentID":7')
    ]
    for (const text of cases) {
      const sync = (() => { try { decodeAgentTransfer(text); return null } catch (error) { return error as MigrationError } })()
      expect(sync).toBeInstanceOf(MigrationError)
      const streamed = await refusal(read(chunked(Buffer.from(text), [3, 5, 64])))
      expect(streamed.message).toBe(sync?.message)
    }
  })

  it('gives the same base64 verdicts whole and split anywhere', async () => {
    const good = Buffer.from(encodeAgentTransfer(transfer())).toString()
    const hashes = ['AAEC AwQF', 'AAEC-wQF', 'AAEC_wQF', 'AAECAwQ', 'AAECAwQF====', 'AA=A', 'A===', 'AB==', 'AAEC\\nAwQF', 'AAA=B', 'QQ==QQ==', 'QUJD', 'QUI=', 'Q\\u0055JD', '']
    for (const hash of hashes) {
      const text = good.replace(/"WASMHash":"[^"]*"/, `"WASMHash":"${hash}"`)
      const sync = (() => { try { return decodeAgentTransfer(text).Package.WASMHash } catch (error) { return (error as Error).message } })()
      for (const sizes of [[1], [2], [3], [5], [7, 1]]) {
        const streamed = await read(chunked(Buffer.from(text), sizes)).then((t) => t.Package.WASMHash, (error: Error) => error.message)
        expect([hash, sizes, streamed]).toEqual([hash, sizes, sync])
      }
    }
  })

  it('fuzz: mutated encodings give the same value or the same reason, whole or in random chunks', async () => {
    const valid = encodeAgentTransfer(transfer({
      WASMBinary: new Uint8Array(40), Checkpoint: new Uint8Array(9),
      ReplayData: { PreTickState: new Uint8Array(2), TickNumber: 3n, Entries: entries(2, 3) },
      Receipts: undefined
    }))
    const text = Buffer.from(valid).toString().replace('{"Package":', '{"X":[1.5e-3,"a\\u0041",{"y":null},true],"Package":')
    const base = Buffer.from(text)
    const mutation = fc.tuple(fc.nat({ max: base.length - 1 }), fc.constantFrom(0x22, 0x5c, 0x2c, 0x3a, 0x7b, 0x7d, 0x5b, 0x5d, 0x30, 0x2d, 0x65, 0x3d, 0x41, 0x20, 0x01, 0x6e), fc.constantFrom('set', 'insert', 'delete'))
    await fc.assert(fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 3 }), fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 4 }), async (mutations, sizes) => {
      const bytes = Array.from(base)
      for (const [at, value, op] of mutations) {
        const i = at % Math.max(bytes.length, 1)
        if (op === 'set') bytes[i] = value
        else if (op === 'insert') bytes.splice(i, 0, value)
        else bytes.splice(i, 1)
      }
      const input = new Uint8Array(bytes)
      let sync: unknown
      try { sync = decodeAgentTransfer(input) } catch (error) { sync = (error as Error).message }
      const streamed = await read(chunked(input, sizes)).then((t) => t as unknown, (error: Error) => error.message)
      if (typeof sync === 'string' && /end of input|empty input|after the value/.test(sync)) return // a stream reports these as TRANSFER_* or ignores trailing bytes
      if (typeof streamed === 'string' && /^read: stream ended/.test(streamed)) return
      expect(streamed).toEqual(sync)
    }), { numRuns: 400 })
  })

  it('reports a stream that ends early as TRANSFER_TRUNCATED / TRANSFER_EMPTY', async () => {
    const good = encodeAgentTransfer(transfer())
    expect((await refusal(read(chunked(good.subarray(0, 100), [30])))).code).toBe('TRANSFER_TRUNCATED')
    expect((await refusal(read(chunked(Buffer.from('  \n'), [1])))).code).toBe('TRANSFER_EMPTY')
  })

  it('stops at the closing brace and reports the bytes read', async () => {
    const good = encodeAgentTransfer(transfer())
    const trailing = Buffer.concat([good, Buffer.from('garbage that is never read')])
    const { bytes } = await readAgentTransferFrom(chunked(trailing, [4096]), { maxBytes: 1 << 20, timeoutMs: 5000 })
    expect(bytes).toBeGreaterThanOrEqual(good.length - 1)
  })
})

describe('per-field limits (SPEC §7: arrays and strings have limits)', () => {
  it(`refuses more than ${DEFAULT_DECODE_LIMITS.maxReplayEntries} replay entries, before reading the rest`, () => {
    const limits = { ...DEFAULT_DECODE_LIMITS, maxReplayEntries: 10 }
    const bytes = encodeAgentTransfer(transfer({ ReplayData: { PreTickState: new Uint8Array(1), TickNumber: 1n, Entries: entries(11) } }))
    expect(() => decodeAgentTransfer(bytes, limits)).toThrow(expect.objectContaining({
      code: 'TRANSFER_TOO_LARGE',
      message: 'AgentTransfer.Package.ReplayData.Entries: more than 10 entries'
    }))
    expect(decodeAgentTransfer(encodeAgentTransfer(transfer({ ReplayData: { PreTickState: new Uint8Array(1), TickNumber: 1n, Entries: entries(10) } })), limits).Package.ReplayData?.Entries).toHaveLength(10)
  })

  it('refuses replay payloads past the runner\'s own per-tick log cap (6 bytes a header + payload)', () => {
    const limits = { ...DEFAULT_DECODE_LIMITS, maxReplayLogBytes: 100 }
    const fits = entries(7, 8) // 7 × 14 = 98
    expect(decodeAgentTransfer(encodeAgentTransfer(transfer({ ReplayData: { PreTickState: new Uint8Array(1), TickNumber: 1n, Entries: fits } })), limits).Package.ReplayData?.Entries).toHaveLength(7)
    expect(() => decodeAgentTransfer(encodeAgentTransfer(transfer({ ReplayData: { PreTickState: new Uint8Array(1), TickNumber: 1n, Entries: entries(8, 8) } })), limits))
      .toThrow('AgentTransfer.Package.ReplayData.Entries: more than 100 bytes of observations')
  })

  it('refuses over-long ids, hashes, manifests and identities, naming the field', () => {
    const cases: Array<[Partial<AgentPackage>, string]> = [
      [{ AgentID: 'x'.repeat(1025) }, 'AgentTransfer.Package.AgentID: longer than 1024 bytes'],
      [{ WASMHash: new Uint8Array(2000) }, 'AgentTransfer.Package.WASMHash: longer than 1024 bytes'],
      [{ ManifestData: new Uint8Array(DEFAULT_DECODE_LIMITS.maxManifestBytes + 3) }, `AgentTransfer.Package.ManifestData: longer than ${DEFAULT_DECODE_LIMITS.maxManifestBytes} bytes`],
      [{ AgentIdentity: new Uint8Array(5000) }, 'AgentTransfer.Package.AgentIdentity: longer than 4096 bytes']
    ]
    for (const [overrides, message] of cases) {
      expect(() => decodeAgentTransfer(encodeAgentTransfer(transfer(overrides)))).toThrow(expect.objectContaining({ code: 'TRANSFER_TOO_LARGE', message }))
    }
  })

  it('refuses a Receipts blob that claims more receipts than the limit, and Receipts text past its cap', () => {
    const blob = Buffer.alloc(12)
    blob.writeUInt32LE(DEFAULT_DECODE_LIMITS.maxReceipts + 1, 0)
    const text = Buffer.from(encodeAgentTransfer(transfer())).toString().replace('"PricePerSecond":1000', `"PricePerSecond":1000,"Receipts":"${blob.toString('base64')}"`)
    expect(() => decodeAgentTransfer(text)).toThrow(`AgentTransfer.Package.Receipts: more than ${DEFAULT_DECODE_LIMITS.maxReceipts} receipts`)
    const long = Buffer.from(encodeAgentTransfer(transfer())).toString().replace('"PricePerSecond":1000', `"PricePerSecond":1000,"Receipts":[${'1,'.repeat(60)}1]`)
    expect(() => decodeAgentTransfer(long, { ...DEFAULT_DECODE_LIMITS, maxReceiptsBytes: 100 })).toThrow('AgentTransfer.Package.Receipts: longer than 100 bytes')
  })

  it('skips an unknown member of any size without building it (memory stays flat)', async () => {
    // 40 MB of `0,` in an unknown key: the old parser built an object per item (25-30× the bytes).
    const head = Buffer.from('{"Junk":[')
    const zeros = Buffer.alloc(4 * 1024 * 1024, '0,')
    const rest = Buffer.from(`0],${Buffer.from(encodeAgentTransfer(transfer())).toString().slice(1)}`)
    async function * source (): AsyncGenerator<Uint8Array> {
      yield head
      await Promise.resolve()
      for (let k = 0; k < 10; k++) yield zeros
      yield rest
    }
    global.gc?.()
    const before = process.memoryUsage().heapUsed
    let peak = before
    const sampler = setInterval(() => { peak = Math.max(peak, process.memoryUsage().heapUsed) }, 1)
    const got = await read(source())
    clearInterval(sampler)
    peak = Math.max(peak, process.memoryUsage().heapUsed)
    expect(got.Package.AgentID).toBe('survivor')
    expect(peak - before).toBeLessThan(32 * 1024 * 1024)
  })

  it('counts what it decodes against the ledger, entries with their overhead', async () => {
    let taken = 0
    let peak = 0
    const ledger: MemoryLedger = { take: (bytes) => { taken += bytes; peak = Math.max(peak, taken) }, give: (bytes) => { taken -= bytes } }
    const t = transfer({ ReplayData: { PreTickState: new Uint8Array(10), TickNumber: 1n, Entries: entries(100, 8) } })
    await read(chunked(encodeAgentTransfer(t), [65536]), ledger)
    const decoded = 3000 + 32 + 1001 + 13 + 10 + 100 * 8
    expect(taken).toBe(decoded + 100 * ENTRY_OVERHEAD_BYTES)
    // Joining a field's pieces (a string across chunks) holds it twice for a moment, and that is counted too.
    expect(peak).toBeLessThanOrEqual(taken + 3000)
    taken = 0
    peak = 0
    await read(chunked(encodeAgentTransfer(t), [100]), ledger)
    expect(taken).toBe(decoded + 100 * ENTRY_OVERHEAD_BYTES)
    expect(peak).toBeGreaterThan(taken)
  })

  it('stops as soon as the ledger refuses', async () => {
    const ledger: MemoryLedger = {
      take: () => { throw new MigrationError('TARGET_BUSY', 'no room') },
      give: () => undefined
    }
    expect((await refusal(read(chunked(encodeAgentTransfer(transfer()), [1000]), ledger))).code).toBe('TARGET_BUSY')
  })
})
