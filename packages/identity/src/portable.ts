// `@igor/identity/portable`: the part of this package that runs in any JavaScript
// engine, browsers included (no node: imports): did:key, base58btc, the key sizes
// and the error type. Signing, verifying and the identity file stay on `.`.
export { IdentityError } from './errors.js'
export type { IdentityErrorCode } from './errors.js'
export { PUBLIC_KEY_LENGTH, SEED_LENGTH, SIGNATURE_LENGTH } from './lengths.js'
export { didKey, parseDidKey } from './did.js'
export { base58btcDecode, base58btcEncode } from './base58.js'
