import { open } from 'node:fs/promises'
import type { FileHandle } from 'node:fs/promises'
import { ModuleError } from '../errors.js'
import { describeReadError, errnoCode } from '../fs-errors.js'
import { EMPTY_MANIFEST, parseManifest } from './manifest.js'
import type { Manifest } from './manifest.js'

/** A manifest is a few hundred bytes; anything past this is not one. */
export const MAX_MANIFEST_BYTES = 1024 * 1024

export interface LoadManifestOptions {
  nodeMemoryLimitBytes?: number
}

/** `foo.wasm` → `foo.manifest.json`; a name without `.wasm` gets `.manifest.json` appended. */
export function sidecarManifestPath(wasmPath: string): string {
  return `${wasmPath.endsWith('.wasm') ? wasmPath.slice(0, -'.wasm'.length) : wasmPath}.manifest.json`
}

/**
 * The manifest for an agent (SPEC §5): `manifestPath` when given (it must
 * exist), else the sidecar next to the binary, else `EMPTY_MANIFEST`.
 */
export async function loadManifest(wasmPath: string, manifestPath?: string, options: LoadManifestOptions = {}): Promise<Manifest> {
  const explicit = manifestPath !== undefined
  const path = manifestPath ?? sidecarManifestPath(wasmPath)
  const bytes = await readManifestFile(path, !explicit)
  if (bytes === null) return EMPTY_MANIFEST
  const parseOptions = options.nodeMemoryLimitBytes === undefined
    ? { source: path }
    : { source: path, nodeMemoryLimitBytes: options.nodeMemoryLimitBytes }
  return parseManifest(bytes, parseOptions)
}

/** The file's bytes; null only for a missing optional sidecar. */
async function readManifestFile(path: string, optional: boolean): Promise<Uint8Array | null> {
  let handle: FileHandle | undefined
  try {
    handle = await open(path, 'r')
    // Read at most one byte past the cap: a huge file or an endless pipe is refused, not slurped.
    const buffer = new Uint8Array(MAX_MANIFEST_BYTES + 1)
    let filled = 0
    for (;;) {
      const { bytesRead } = await handle.read(buffer, filled, buffer.length - filled, null)
      if (bytesRead === 0) break
      filled += bytesRead
      if (filled === buffer.length) {
        throw new ModuleError('MANIFEST_INVALID', `manifest ${path}: larger than ${MAX_MANIFEST_BYTES} bytes`)
      }
    }
    return buffer.slice(0, filled)
  } catch (error) {
    if (error instanceof ModuleError) throw error
    const code = errnoCode(error)
    if (code === 'ENOENT' && optional) return null
    throw new ModuleError('MANIFEST_UNREADABLE', `manifest ${path}: ${describeReadError(code, error)}`, { cause: error })
  } finally {
    await handle?.close().catch(() => undefined)
  }
}
