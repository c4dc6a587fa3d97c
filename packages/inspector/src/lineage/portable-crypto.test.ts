import { readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { GENESIS_PREV_HASH, checkpointContentHash, encodeSignedCheckpoint, readCheckpointHeader } from '@igor/checkpoint-codec'
import { Epoch } from '@igor/epoch'
import { AgentIdentity } from '@igor/identity'
import { describe, expect, it } from 'vitest'
import type { HistoryFile } from '../index.js'
import { nodeLineageCrypto, renderLineageReport, verifyHistories } from '../index.js'
import * as browser from '../browser.js'
import { portableLineageCrypto } from './portable-crypto.js'

// RFC 8032 §7.1 test 1 key, as in SPEC §12's vector.
const KEY = AgentIdentity.fromSeed(Uint8Array.from(Buffer.from('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60', 'hex')))
const name = (tick: bigint): string => `${tick.toString().padStart(10, '0')}.ckpt`

function chain(dir: string, ticks: readonly bigint[], epoch: Epoch, prev: Uint8Array = GENESIS_PREV_HASH): HistoryFile[] {
  return ticks.map((tick) => {
    const bytes = encodeSignedCheckpoint({ budget: 1000n, pricePerSecond: 1n, tickNumber: tick, wasmHash: new Uint8Array(32).fill(0xaa), epoch, leaseExpiry: 0n, state: new Uint8Array(300).fill(Number(tick)) }, prev, KEY)
    prev = checkpointContentHash(bytes)
    return { name: name(tick), path: `${dir}/${name(tick)}`, bytes }
  })
}

function flipped(bytes: Uint8Array, offset: number): Uint8Array {
  const copy = Uint8Array.from(bytes)
  copy[offset] = (copy[offset] as number) ^ 0x01
  return copy
}

describe('portableLineageCrypto (SPEC §12, pure JavaScript)', () => {
  it('gives node:crypto\'s answers: content hash, valid and damaged signatures, bad keys', () => {
    const [file] = chain('a', [1n], new Epoch(1n, 0n))
    const bytes = (file as HistoryFile).bytes as Uint8Array
    expect(Buffer.from(portableLineageCrypto.contentHash(bytes))).toEqual(Buffer.from(nodeLineageCrypto.contentHash(bytes)))
    const cases: Uint8Array[] = [bytes, flipped(bytes, 300), flipped(bytes, 150), flipped(bytes, 120), flipped(bytes, 5)]
    const results = cases.map((c) => {
      const lineage = readCheckpointHeader(c).lineage
      if (lineage === null) throw new Error('v0x04 expected')
      return [portableLineageCrypto.verifyCheckpoint(c, lineage), nodeLineageCrypto.verifyCheckpoint(c, lineage)]
    })
    expect(results).toEqual([[true, true], [false, false], [false, false], [false, false], [false, false]])
    // A key that is no curve point, a short signature, S ≥ L: false from both, no throw.
    const lineage = readCheckpointHeader(bytes).lineage
    if (lineage === null) throw new Error('v0x04 expected')
    const badKey = { ...lineage, agentPubKey: new Uint8Array(32).fill(0xff) }
    const shortSig = { ...lineage, signature: lineage.signature.subarray(0, 63) }
    const bigS = { ...lineage, signature: Uint8Array.from([...lineage.signature.subarray(0, 32), ...new Uint8Array(32).fill(0xff)]) }
    for (const odd of [badKey, shortSig, bigS]) {
      expect([portableLineageCrypto.verifyCheckpoint(bytes, odd), nodeLineageCrypto.verifyCheckpoint(bytes, odd)]).toEqual([false, false])
    }
  })

  it('@igor/inspector/browser reports exactly what igord verify reports: valid, tampered, fork', () => {
    const a = chain('A', [1n, 2n, 3n, 4n], new Epoch(1n, 0n))
    const tampered = a.map((f, i) => (i === 1 ? { ...f, bytes: flipped(f.bytes as Uint8Array, 250) } : f))
    const forkB = chain('B', [3n, 4n], new Epoch(2n, 0n), checkpointContentHash(a[1]?.bytes as Uint8Array))
    for (const histories of [[a], [tampered], [a, forkB], [[{ name: 'x.ckpt', bytes: new Uint8Array(3) }, ...a]]]) {
      expect(renderLineageReport(browser.verifyHistories(histories))).toBe(renderLineageReport(verifyHistories(histories)))
    }
    expect(renderLineageReport(browser.verifyHistories([tampered]))).toContain('  - tick 2: INVALID signature\n')
    expect(browser.findForks([a, forkB])).toEqual(['fork at tick 3: A/0000000003.ckpt and B/0000000003.ckpt'])
  })

  it('nothing reachable from src/browser.ts imports a node: module or a package\'s node entry', () => {
    const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
    const seen = new Set<string>()
    const bad: string[] = []
    const walk = (file: string): void => {
      if (seen.has(file)) return
      seen.add(file)
      const source = readFileSync(file, 'utf8')
      for (const match of source.matchAll(/(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+'([^']+)'/g)) {
        const spec = match[1] as string
        if (spec.startsWith('.')) walk(join(dirname(file), spec.replace(/\.js$/, '.ts')))
        else if (spec.startsWith('node:') || /^@igor\/(checkpoint-codec|identity)$/.test(spec)) bad.push(`${file}: ${spec}`)
      }
    }
    walk(join(root, 'browser.ts'))
    expect(seen.size).toBeGreaterThan(5)
    expect(bad).toEqual([])
  })
})
