export { IdentityError } from './errors.js'
export type { IdentityErrorCode } from './errors.js'
export { AgentIdentity, IDENTITY_FILE_LENGTH, decodeIdentity, encodeIdentity } from './identity.js'
export { PUBLIC_KEY_LENGTH, SEED_LENGTH, SIGNATURE_LENGTH, verifySignature } from './ed25519.js'
export { didKey, parseDidKey } from './did.js'
export { base58btcDecode, base58btcEncode } from './base58.js'
export {
  IDENTITY_FILE_MODE, IDENTITY_TEMP_SUFFIX, readIdentityFile, removeIdentityFile, restrictIdentityFile, writeIdentityFile
} from './file.js'
