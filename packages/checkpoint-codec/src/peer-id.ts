// SPEC §15 receipts: the node's public key is the one inside its libp2p peer
// id, so a receipt verifies offline. An Ed25519 peer id is base58btc of the
// identity multihash of the protobuf-encoded public key:
// 0x00 0x24 (identity, 36 bytes) ‖ 0x08 0x01 (KeyType Ed25519) ‖ 0x12 0x20 (Data, 32 bytes) ‖ key.
import { IdentityError, base58btcDecode, base58btcEncode } from '@igor/identity/portable'
import { ReceiptError } from './receipt-errors.js'

const ED25519_PEER_ID_PREFIX = Uint8Array.of(0x00, 0x24, 0x08, 0x01, 0x12, 0x20)
const KEY_LENGTH = 32
/** libp2p's protobuf KeyType enum. */
const KEY_TYPES: Record<number, string> = { 0: 'RSA', 1: 'Ed25519', 2: 'secp256k1', 3: 'ECDSA' }
/** Longer than any base58btc peer id (an inlined key stays under 42 bytes; a hash is 34). */
const MAX_PEER_ID_TEXT = 128

/** The base58btc peer id string (`12D3KooW…`) of a 32-byte Ed25519 public key. */
export function ed25519PeerId(publicKey: Uint8Array): string {
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== KEY_LENGTH) {
    throw new RangeError(`Ed25519 public key must be ${KEY_LENGTH} bytes`)
  }
  const bytes = new Uint8Array(ED25519_PEER_ID_PREFIX.length + KEY_LENGTH)
  bytes.set(ED25519_PEER_ID_PREFIX, 0)
  bytes.set(publicKey, ED25519_PEER_ID_PREFIX.length)
  return base58btcEncode(bytes)
}

/**
 * The 32-byte Ed25519 public key inside a peer id string. `BAD_PEER_ID` for
 * text that is not a base58btc peer id; `UNSUPPORTED_KEY_TYPE` for an id whose
 * key is another type or not inside the id (a SHA-256 id, `Qm…`).
 */
export function peerIdPublicKey(peerId: string): Uint8Array {
  if (typeof peerId !== 'string' || peerId.length === 0) throw new ReceiptError('BAD_PEER_ID', 'peer id is empty')
  if (peerId.length > MAX_PEER_ID_TEXT) throw new ReceiptError('BAD_PEER_ID', `peer id is ${peerId.length} characters, not a base58btc peer id`)
  let bytes: Uint8Array
  try {
    bytes = base58btcDecode(peerId)
  } catch (error) {
    if (error instanceof IdentityError) throw new ReceiptError('BAD_PEER_ID', `peer id is not base58btc: ${error.message}`)
    throw error
  }
  if (bytes[0] === 0x12 && bytes[1] === 0x20 && bytes.length === 34) {
    throw new ReceiptError('UNSUPPORTED_KEY_TYPE', 'peer id is a SHA-256 hash of its key (RSA or another large key): the key is not inside it')
  }
  if (bytes[0] !== 0x00 || bytes.length < 4 || bytes[1] !== bytes.length - 2) {
    throw new ReceiptError('BAD_PEER_ID', 'peer id is not an identity multihash of a public key')
  }
  if (bytes[2] !== 0x08) throw new ReceiptError('BAD_PEER_ID', 'peer id does not hold a protobuf public key')
  const type = bytes[3] as number
  if (type !== 1) {
    throw new ReceiptError('UNSUPPORTED_KEY_TYPE', `peer id holds a ${KEY_TYPES[type] ?? `type ${type}`} key; only Ed25519 is verified`)
  }
  if (bytes.length !== ED25519_PEER_ID_PREFIX.length + KEY_LENGTH || bytes[4] !== 0x12 || bytes[5] !== KEY_LENGTH) {
    throw new ReceiptError('BAD_PEER_ID', 'peer id holds a malformed Ed25519 key')
  }
  return bytes.slice(ED25519_PEER_ID_PREFIX.length)
}
