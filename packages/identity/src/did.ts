import { base58btcDecode, base58btcEncode } from './base58.js'
import { PUBLIC_KEY_LENGTH } from './lengths.js'
import { IdentityError } from './errors.js'

const DID_PREFIX = 'did:key:z'
// Multicodec ed25519-pub (0xed, varint-encoded as 0xed 0x01).
const MULTICODEC_ED25519_PUB = [0xed, 0x01] as const

/** `did:key:z` + base58btc(0xED 0x01 ‖ publicKey) (SPEC §12). */
export function didKey(publicKey: Uint8Array): string {
  if (publicKey.length !== PUBLIC_KEY_LENGTH) {
    throw new IdentityError('INVALID_KEY', `Ed25519 public key must be ${PUBLIC_KEY_LENGTH} bytes, got ${publicKey.length}`)
  }
  const bytes = new Uint8Array(2 + PUBLIC_KEY_LENGTH)
  bytes.set(MULTICODEC_ED25519_PUB, 0)
  bytes.set(publicKey, 2)
  return DID_PREFIX + base58btcEncode(bytes)
}

/** The raw public key of an Ed25519 `did:key`; `IdentityError('INVALID_KEY')` otherwise. */
export function parseDidKey(did: string): Uint8Array {
  if (!did.startsWith(DID_PREFIX) || did.length === DID_PREFIX.length) {
    throw new IdentityError('INVALID_KEY', `not a did:key (must start with ${DID_PREFIX})`)
  }
  const bytes = base58btcDecode(did.slice(DID_PREFIX.length))
  if (bytes[0] !== MULTICODEC_ED25519_PUB[0] || bytes[1] !== MULTICODEC_ED25519_PUB[1]) {
    throw new IdentityError('INVALID_KEY', 'did:key is not an Ed25519 key')
  }
  if (bytes.length !== 2 + PUBLIC_KEY_LENGTH) {
    throw new IdentityError('INVALID_KEY', `did:key Ed25519 key must be ${PUBLIC_KEY_LENGTH} bytes, got ${bytes.length - 2}`)
  }
  return bytes.slice(2)
}
