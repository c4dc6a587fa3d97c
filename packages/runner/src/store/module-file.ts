/**
 * The agent's binary and manifest kept beside its checkpoint, so a node can
 * resume an agent that arrived by migration without the operator's files.
 * One file, written atomically, so binary and manifest never disagree after a
 * crash: magic `IGORMOD\x01` (8 bytes), manifest length (u32 LE), manifest
 * bytes, then the WASM bytes.
 */

export interface StoredModule {
  wasm: Uint8Array
  /** The manifest's original bytes; empty when the agent has none. */
  manifest: Uint8Array
}

const MAGIC = new TextEncoder().encode('IGORMOD\x01')
const PREFIX_LENGTH = MAGIC.length + 4

export class ModuleFormatError extends Error {
  override readonly name = 'ModuleFormatError'
}

export function encodeModuleFile(wasm: Uint8Array, manifest: Uint8Array): Uint8Array {
  const out = new Uint8Array(PREFIX_LENGTH + manifest.length + wasm.length)
  out.set(MAGIC, 0)
  new DataView(out.buffer).setUint32(MAGIC.length, manifest.length, true)
  out.set(manifest, PREFIX_LENGTH)
  out.set(wasm, PREFIX_LENGTH + manifest.length)
  return out
}

/** Views into `bytes` (no copy). */
export function decodeModuleFile(bytes: Uint8Array): StoredModule {
  if (bytes.length < PREFIX_LENGTH || MAGIC.some((byte, i) => bytes[i] !== byte)) {
    throw new ModuleFormatError('not an Igor module file (bad magic)')
  }
  const manifestLength = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(MAGIC.length, true)
  if (PREFIX_LENGTH + manifestLength > bytes.length) {
    throw new ModuleFormatError(`manifest length ${manifestLength} runs past the end of the file (${bytes.length} bytes)`)
  }
  return {
    manifest: bytes.subarray(PREFIX_LENGTH, PREFIX_LENGTH + manifestLength),
    wasm: bytes.subarray(PREFIX_LENGTH + manifestLength)
  }
}
