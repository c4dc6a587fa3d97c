import { HASH_LENGTH } from './layout.js'

/** The `prevHash` of the first checkpoint of a chain: 32 zero bytes (SPEC §12). */
export const GENESIS_PREV_HASH: Uint8Array = new Uint8Array(HASH_LENGTH)
