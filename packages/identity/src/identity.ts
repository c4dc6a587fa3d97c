import type { KeyObject } from 'node:crypto'
import { didKey } from './did.js'
import { PUBLIC_KEY_LENGTH, SEED_LENGTH, privateKeyFromSeed, randomSeed, rawPublicKey, signWith } from './ed25519.js'
import { IdentityError } from './errors.js'

/** Size of the identity file: `u32 LE 64 ‖ seed(32) ‖ publicKey(32)` (SPEC §12, the reference's layout). */
export const IDENTITY_FILE_LENGTH = 68
/** The length prefix: the Go ed25519 private key size (seed ‖ public key). */
const PRIVATE_KEY_LENGTH = SEED_LENGTH + PUBLIC_KEY_LENGTH

/**
 * An agent's Ed25519 identity (not the node's key). Immutable; `seed` and
 * `publicKey` are private copies, handed out as copies too.
 */
export class AgentIdentity {
  readonly #seed: Uint8Array
  readonly #publicKey: Uint8Array
  readonly #privateKey: KeyObject
  /** `did:key:z6Mk…` of the public key. */
  readonly did: string

  private constructor(seed: Uint8Array, privateKey: KeyObject, publicKey: Uint8Array) {
    this.#seed = seed
    this.#privateKey = privateKey
    this.#publicKey = publicKey
    this.did = didKey(publicKey)
    Object.freeze(this)
  }

  /** A fresh random identity. */
  static generate(): AgentIdentity {
    return AgentIdentity.fromSeed(randomSeed())
  }

  /** The identity a 32-byte seed derives (RFC 8032). */
  static fromSeed(seed: Uint8Array): AgentIdentity {
    const copy = Uint8Array.from(seed)
    const privateKey = privateKeyFromSeed(copy)
    return new AgentIdentity(copy, privateKey, rawPublicKey(privateKey))
  }

  /** 32-byte raw public key (a copy). */
  get publicKey(): Uint8Array {
    return this.#publicKey.slice()
  }

  /** 32-byte seed (a copy). Secret: only the identity file needs it. */
  get seed(): Uint8Array {
    return this.#seed.slice()
  }

  /** Lower-case hex of the public key, as the inspector and verifier print it. */
  get publicKeyHex(): string {
    return Buffer.from(this.#publicKey).toString('hex')
  }

  /** True when `publicKey` is this identity's key. */
  hasPublicKey(publicKey: Uint8Array): boolean {
    if (publicKey.length !== PUBLIC_KEY_LENGTH) return false
    for (let i = 0; i < PUBLIC_KEY_LENGTH; i++) if (publicKey[i] !== this.#publicKey[i]) return false
    return true
  }

  /** Ed25519 signature (64 bytes) of `data`. */
  sign(data: Uint8Array): Uint8Array {
    return signWith(this.#privateKey, data)
  }

  /** The 68-byte identity file. */
  toBytes(): Uint8Array {
    return encodeIdentity(this)
  }

  /** Never print the seed by accident (logs, `util.inspect`). */
  toJSON(): { did: string } {
    return { did: this.did }
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `AgentIdentity(${this.did})`
  }
}

/** `u32 LE 64 ‖ seed ‖ publicKey`, 68 bytes (SPEC §12). */
export function encodeIdentity(identity: AgentIdentity): Uint8Array {
  const out = new Uint8Array(IDENTITY_FILE_LENGTH)
  new DataView(out.buffer).setUint32(0, PRIVATE_KEY_LENGTH, true)
  out.set(identity.seed, 4)
  out.set(identity.publicKey, 4 + SEED_LENGTH)
  return out
}

/**
 * Reads an identity file (SPEC §12): under 4 bytes, a length prefix other than
 * 64, or fewer key bytes than it announces is an error; bytes after 68 are
 * ignored (as the reference does); *ours:* the stored public key must be the
 * one the seed derives. Throws only `IdentityError`.
 */
export function decodeIdentity(bytes: Uint8Array): AgentIdentity {
  if (!(bytes instanceof Uint8Array)) throw new TypeError('identity bytes must be a Uint8Array')
  if (bytes.length < 4) {
    throw new IdentityError('TOO_SHORT', `identity data too short: ${bytes.length} bytes (need ${IDENTITY_FILE_LENGTH})`)
  }
  const keyLength = new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, true)
  if (keyLength !== PRIVATE_KEY_LENGTH) {
    throw new IdentityError('BAD_KEY_LENGTH', `unexpected private key length: ${keyLength} (expected ${PRIVATE_KEY_LENGTH})`)
  }
  if (bytes.length < IDENTITY_FILE_LENGTH) {
    throw new IdentityError('TRUNCATED', `identity data truncated: ${bytes.length} bytes (need ${IDENTITY_FILE_LENGTH})`)
  }
  const identity = AgentIdentity.fromSeed(bytes.subarray(4, 4 + SEED_LENGTH))
  if (!identity.hasPublicKey(bytes.subarray(4 + SEED_LENGTH, IDENTITY_FILE_LENGTH))) {
    throw new IdentityError('KEY_MISMATCH', 'identity public key is not the one its seed derives')
  }
  return identity
}
