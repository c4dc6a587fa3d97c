// SPEC §12: a signed v0x04 checkpoint should cost little more than the
// cryptography it cannot avoid. Baseline, in the same run and paired round by
// round: SHA-256 + Ed25519 (sign, or verify) of a buffer of the same size.
// Subject: what the node does per checkpoint — encode + sign + content hash
// (the chain needs it) — and what `igord verify` does per file — decode +
// signature check + content hash.
import { createHash, createPrivateKey, createPublicKey, sign, verify } from 'node:crypto'
import {
  GENESIS_PREV_HASH, checkpointContentHash, decodeCheckpoint, encodeSignedCheckpoint, verifyCheckpointSignature
} from '@igor/checkpoint-codec'
import { AgentIdentity } from '@igor/identity'

import { STATE_SIZES as SIZES, sampleCheckpointInput as input } from '../lib/checkpoints.mjs'

export const name = 'lineage'

const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex')

export async function run(ctx) {
  const rows = []
  const identity = AgentIdentity.generate()
  const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, identity.seed]), format: 'der', type: 'pkcs8' })
  const publicKey = createPublicKey(privateKey)
  for (const [label, size] of SIZES) {
    const checkpoint = input(size)
    const bytes = encodeSignedCheckpoint(checkpoint, GENESIS_PREV_HASH, identity)
    const raw = new Uint8Array(bytes) // same length as the checkpoint
    const rawSignature = sign(null, raw, privateKey)

    ctx.log(`v0x04 encode+sign vs SHA-256+Ed25519 sign, state ${label}`)
    const s = await ctx.measureAll({
      baseline: () => { createHash('sha256').update(raw).digest(); return sign(null, raw, privateKey) },
      encodeSign: () => checkpointContentHash(encodeSignedCheckpoint(checkpoint, GENESIS_PREV_HASH, identity))
    })
    rows.push(ctx.entry(`lineage sha256+ed25519 sign ${label}`, s.baseline.medianNs, 'ns/op'))
    rows.push(ctx.entry(`lineage v4 encode+sign ${label}`, s.encodeSign.medianNs, 'ns/op', {
      ratio: ctx.pairedRatio(s.encodeSign, s.baseline), maxRatio: 1.2, note: 'encode + Ed25519 sign + content hash / SHA-256 + Ed25519 sign of the same bytes'
    }))

    ctx.log(`v0x04 decode+verify vs SHA-256+Ed25519 verify, state ${label}`)
    const v = await ctx.measureAll({
      baseline: () => { createHash('sha256').update(raw).digest(); return verify(null, raw, publicKey, rawSignature) },
      decodeVerify: () => {
        decodeCheckpoint(bytes)
        if (!verifyCheckpointSignature(bytes)) throw new Error('signature should verify')
        return checkpointContentHash(bytes)
      }
    })
    rows.push(ctx.entry(`lineage sha256+ed25519 verify ${label}`, v.baseline.medianNs, 'ns/op'))
    rows.push(ctx.entry(`lineage v4 decode+verify ${label}`, v.decodeVerify.medianNs, 'ns/op', {
      ratio: ctx.pairedRatio(v.decodeVerify, v.baseline), maxRatio: 1.2, note: 'decode + signature check + content hash / SHA-256 + Ed25519 verify of the same bytes'
    }))
  }
  return rows
}
