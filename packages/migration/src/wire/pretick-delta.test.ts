// SPEC §7 `/igor/migrate/2.0.0`: ReplayData.PreTickState sent as a delta against the checkpoint's state,
// round trips and the hostile inputs this adds (a malformed delta, an unknown encoding, a delta without ReplayData).
import { randomBytes } from 'node:crypto'
import { encodeCheckpoint } from '@igor/checkpoint-codec'
import { Epoch } from '@igor/epoch'
import { describe, expect, it } from 'vitest'
import { MigrationError } from '../errors.js'
import { encodeAgentTransfer } from './agent-transfer.js'
import { encodeBinaryTransfer, partsLength } from './binary-encode.js'
import { readBinaryTransferFrom } from './binary-reader.js'
import { applyPreTickDelta, encodePreTickDelta } from './pretick-delta.js'
import type { AgentTransfer } from './types.js'

const LIMITS = { maxBytes: 64 * 1024 * 1024, timeoutMs: 20_000 }

function checkpointOf(state: Uint8Array): Uint8Array {
  return encodeCheckpoint({ budget: 1n, pricePerSecond: 2n, tickNumber: 5n, wasmHash: new Uint8Array(32), epoch: new Epoch(1n, 0n), leaseExpiry: 0n, state })
}

function transfer(state: Uint8Array, preTick: Uint8Array): AgentTransfer {
  return {
    Package: {
      AgentID: 'big',
      WASMBinary: new Uint8Array(randomBytes(100)),
      WASMHash: new Uint8Array(32),
      Checkpoint: checkpointOf(state),
      ManifestData: new Uint8Array(0),
      Budget: 1n,
      PricePerSecond: 2n,
      ReplayData: { PreTickState: preTick, TickNumber: 5n, Entries: [] },
      MajorVersion: 1n,
      LeaseGeneration: 0n
    },
    SourceNodeID: 'peer'
  }
}

async function * once(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < bytes.length; at += 1000) {
    if (at % 64_000 === 0) await Promise.resolve()
    yield bytes.subarray(at, at + 1000)
  }
}

async function read(parts: Uint8Array[], ledger?: { take: (n: number) => void }): Promise<AgentTransfer> {
  const bytes = new Uint8Array(Buffer.concat(parts))
  return (await readBinaryTransferFrom(once(bytes), { ...LIMITS, ...(ledger !== undefined ? { ledger: { take: ledger.take, release: () => undefined } as never } : {}) })).transfer
}

/** A tick that changed a few bytes, as bigstate's does. */
function ticked(state: Uint8Array): Uint8Array {
  const out = new Uint8Array(state)
  out[0] = out[0]! ^ 1
  out[4097] = out[4097]! ^ 0x80
  out[4100] = out[4100]! ^ 0x80 // 2 bytes apart: one run with the one before
  out[out.length - 1] = out[out.length - 1]! ^ 7
  return out
}

const header = (parts: Uint8Array[]): string => Buffer.from(parts[1]!).toString()

async function refusal(run: () => unknown): Promise<string> {
  try {
    await run()
  } catch (error) {
    if (error instanceof MigrationError) return `${error.code}: ${error.message}`
    throw error
  }
  throw new Error('accepted')
}

describe('2.0.0 PreTickState as a delta against the checkpoint state', { timeout: 60_000 }, () => {
  it('a few changed bytes travel instead of the whole pre-tick state, and the target rebuilds it exactly', async () => {
    const state = new Uint8Array(randomBytes(64 * 1024))
    const pre = ticked(state)
    const t = transfer(state, pre)
    const parts = encodeBinaryTransfer(t)
    expect(header(parts)).toContain('"PreTickStateEncoding":"delta"')
    expect(partsLength(parts)).toBeLessThan(state.length + 2000) // the state once, not twice
    const taken: number[] = []
    const got = await read(parts, { take: (n) => taken.push(n) })
    expect(got.Package.ReplayData!.PreTickState).toEqual(pre)
    expect(encodeAgentTransfer(got)).toEqual(encodeAgentTransfer(t))
    expect(taken).toContain(state.length) // the rebuilt state is charged to the admission's ledger
  })

  it('an unchanged state is an empty section (the checkpoint state is referenced)', async () => {
    const state = new Uint8Array(randomBytes(4096))
    const parts = encodeBinaryTransfer(transfer(state, new Uint8Array(state)))
    expect(header(parts)).toContain('"PreTickState":0,')
    expect(header(parts)).toContain('"PreTickStateEncoding":"delta"')
    expect((await read(parts)).Package.ReplayData!.PreTickState).toEqual(state)
  })

  it('a different length, or a delta over half the state, is sent raw', async () => {
    const state = new Uint8Array(randomBytes(4096))
    for (const pre of [new Uint8Array(randomBytes(4000)), new Uint8Array(randomBytes(4096))]) {
      const parts = encodeBinaryTransfer(transfer(state, pre))
      expect(header(parts)).not.toContain('PreTickStateEncoding')
      expect((await read(parts)).Package.ReplayData!.PreTickState).toEqual(pre)
    }
    expect(encodePreTickDelta(state, new Uint8Array(randomBytes(4096)))).toBeNull()
  })

  it('refuses a malformed delta with its reason', async () => {
    const checkpoint = checkpointOf(new Uint8Array(100))
    const run = (offset: number, length: number, body = length): Uint8Array => {
      const out = Buffer.alloc(8 + body)
      out.writeUInt32LE(offset, 0)
      out.writeUInt32LE(length, 4)
      return new Uint8Array(out)
    }
    const cat = (...parts: Uint8Array[]): Uint8Array => new Uint8Array(Buffer.concat(parts))
    const apply = (delta: Uint8Array) => () => applyPreTickDelta(checkpoint, delta, () => undefined)
    expect(await refusal(apply(new Uint8Array(5)))).toMatch(/BAD_TRANSFER: .*run header cut short at byte 0/)
    expect(await refusal(apply(run(0, 0)))).toMatch(/BAD_TRANSFER: .*an empty run at offset 0/)
    expect(await refusal(apply(run(99, 2)))).toMatch(/BAD_TRANSFER: .*runs past the state's 100 bytes/)
    expect(await refusal(apply(run(2 ** 32 - 1, 1)))).toMatch(/runs past/)
    expect(await refusal(apply(run(10, 4, 3)))).toMatch(/BAD_TRANSFER: .*cut short/)
    expect(await refusal(apply(cat(run(10, 4), run(12, 1))))).toMatch(/BAD_TRANSFER: .*overlaps or precedes/)
    expect(await refusal(apply(cat(run(10, 4), run(2, 1))))).toMatch(/overlaps or precedes/)
    expect(await refusal(() => applyPreTickDelta(new Uint8Array([9, 9, 9]), new Uint8Array(0), () => undefined))).toMatch(/BAD_TRANSFER: .*Checkpoint section does not decode/)
  })

  it('refuses an unknown encoding, and a delta without ReplayData', async () => {
    const state = new Uint8Array(randomBytes(4096))
    const parts = encodeBinaryTransfer(transfer(state, ticked(state)))
    const swap = (from: string, to: string): Uint8Array[] => {
      const h = Buffer.from(header(parts).replace(from, to))
      const length = Buffer.alloc(4)
      length.writeUInt32LE(h.length)
      return [new Uint8Array(length), new Uint8Array(h), ...parts.slice(2)]
    }
    expect(await refusal(async () => read(swap('"delta"', '"xdelta"')))).toMatch(/BAD_TRANSFER: AgentTransfer.PreTickStateEncoding: "xdelta" is not "raw" or "delta"/)
    const noReplay = swap(/,"ReplayData":\{[^}]*\}/.exec(header(parts))![0], '')
    expect(await refusal(async () => read(noReplay))).toMatch(/BAD_TRANSFER: .*without ReplayData/)
  })
})
