// SPEC §15 `wallet_pay` test fixtures: the vector's agent key (RFC 8032 test 1), timestamp and receipt.
import { createPrivateKey, createPublicKey, sign } from 'node:crypto'

const hex = (text: string): Uint8Array => Uint8Array.from(Buffer.from(text, 'hex'))
/** RFC 8032 §7.1 TEST 1 key, as the agent's key. */
export const TEST1_AGENT = seedSigner(hex('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60'))

/** An Ed25519 signer from a 32-byte seed (node:crypto; the sandbox does not depend on @igor/identity). */
function seedSigner(seed: Uint8Array): { publicKey: Uint8Array, sign: (data: Uint8Array) => Uint8Array } {
  const key = createPrivateKey({ key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]), format: 'der', type: 'pkcs8' })
  const publicKey = new Uint8Array(createPublicKey(key).export({ format: 'der', type: 'spki' }).subarray(12))
  return { publicKey, sign: (data) => new Uint8Array(sign(null, data, key)) }
}
export const VECTOR_TS = 1_700_000_000_123_456_789n
export const WALLET_PAY_VECTOR =
  'a08601000000000015cd853dfe9c97171000000070617977616c6c2d70726f7669646572130000007072656d69756d2d646174612d616363657373d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511abe20726282c1947e5f66101ad3524d9666fad5334546ac354002d84ba466a4621cf1e4c30107728fd6ec28d0a900c4a82b30a961d43cd598e460b12ee2600d02'

