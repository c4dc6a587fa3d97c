import { createPrivateKey, createPublicKey, randomBytes, sign, verify } from 'node:crypto'
import type { KeyObject } from 'node:crypto'
import { IdentityError } from './errors.js'
import { PUBLIC_KEY_LENGTH, SEED_LENGTH, SIGNATURE_LENGTH } from './lengths.js'

export { PUBLIC_KEY_LENGTH, SEED_LENGTH, SIGNATURE_LENGTH }

// DER wrappers that turn raw Ed25519 bytes into keys node:crypto accepts
// (RFC 8410): PKCS#8 for a 32-byte seed, SPKI for a 32-byte public key.
const PKCS8_PREFIX = Uint8Array.from([0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20])
const SPKI_PREFIX = Uint8Array.from([0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00])

function withPrefix(prefix: Uint8Array, raw: Uint8Array): Buffer {
  const der = Buffer.allocUnsafe(prefix.length + raw.length)
  der.set(prefix, 0)
  der.set(raw, prefix.length)
  return der
}

/** A private key object from a raw 32-byte seed. */
export function privateKeyFromSeed(seed: Uint8Array): KeyObject {
  if (!(seed instanceof Uint8Array) || seed.length !== SEED_LENGTH) {
    throw new IdentityError('INVALID_KEY', `Ed25519 seed must be ${SEED_LENGTH} bytes`)
  }
  return createPrivateKey({ key: withPrefix(PKCS8_PREFIX, seed), format: 'der', type: 'pkcs8' })
}

/** The raw 32-byte public key of a private (or public) key object. */
export function rawPublicKey(key: KeyObject): Uint8Array {
  const spki = createPublicKey(key).export({ format: 'der', type: 'spki' })
  return new Uint8Array(spki.subarray(spki.length - PUBLIC_KEY_LENGTH))
}

// Verification builds a key object per public key; an agent's history uses one
// key for thousands of checkpoints, so the last few are kept.
const publicKeyCache = new Map<string, KeyObject>()
const PUBLIC_KEY_CACHE_SIZE = 16

function publicKeyObject(publicKey: Uint8Array): KeyObject {
  const id = Buffer.from(publicKey.buffer, publicKey.byteOffset, publicKey.length).toString('hex')
  let key = publicKeyCache.get(id)
  if (key === undefined) {
    key = createPublicKey({ key: withPrefix(SPKI_PREFIX, publicKey), format: 'der', type: 'spki' })
    if (publicKeyCache.size >= PUBLIC_KEY_CACHE_SIZE) publicKeyCache.delete(publicKeyCache.keys().next().value as string)
    publicKeyCache.set(id, key)
  }
  return key
}

/** Ed25519 signature (64 bytes) of `data`. */
export function signWith(privateKey: KeyObject, data: Uint8Array): Uint8Array {
  return new Uint8Array(sign(null, data, privateKey))
}

/**
 * True when `signature` is a valid Ed25519 signature of `data` by `publicKey`.
 * Never throws for bad data: a key or signature of the wrong size, or a key
 * that is not a curve point, is simply `false`.
 */
export function verifySignature(publicKey: Uint8Array, data: Uint8Array, signature: Uint8Array): boolean {
  if (publicKey.length !== PUBLIC_KEY_LENGTH || signature.length !== SIGNATURE_LENGTH) return false
  try {
    return verify(null, data, publicKeyObject(publicKey), signature)
  } catch {
    return false
  }
}

export function randomSeed(): Uint8Array {
  return new Uint8Array(randomBytes(SEED_LENGTH))
}
