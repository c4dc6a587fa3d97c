export { CAPABILITIES, CAPABILITY_IMPORTS, CAPABILITY_VERSIONS, capabilityForImport, isCapabilityName } from './capabilities.js'
export type { CapabilityName } from './capabilities.js'
export { EMPTY_MANIFEST, NODE_MEMORY_LIMIT_BYTES, WASM_PAGE_BYTES, parseManifest } from './manifest.js'
export type { CapabilityDeclaration, Manifest, ManifestOptions, MigrationPolicy } from './manifest.js'
export { MAX_MANIFEST_BYTES, loadManifest, sidecarManifestPath } from './load-manifest.js'
export type { LoadManifestOptions } from './load-manifest.js'
export {
  DEFAULT_HTTP_OPTIONS, DEFAULT_HTTP_TIMEOUT_MS, DEFAULT_MAX_RESPONSE_BYTES, MAX_HTTP_TIMEOUT_MS, MAX_RESPONSE_BYTES_LIMIT, readHttpOptions
} from './http-options.js'
export type { HttpOptions } from './http-options.js'
export { DEFAULT_X402_OPTIONS, MAX_ALLOWED_RECIPIENTS, readX402Options } from './x402-options.js'
export type { X402Options } from './x402-options.js'
