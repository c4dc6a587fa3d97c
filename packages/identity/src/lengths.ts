// Ed25519 sizes (RFC 8032), apart from ed25519.ts so portable code can use them without node:crypto.
export const SEED_LENGTH = 32
export const PUBLIC_KEY_LENGTH = 32
export const SIGNATURE_LENGTH = 64
