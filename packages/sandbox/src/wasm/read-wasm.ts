import { open } from 'node:fs/promises'
import type { FileHandle } from 'node:fs/promises'
import { ModuleError } from '../errors.js'
import { describeReadError, errnoCode } from '../fs-errors.js'

/** V8 refuses modules above 1 GiB; a bigger file cannot be an agent. */
export const MAX_WASM_BYTES = 1024 * 1024 * 1024

/** The agent binary's bytes; `WASM_UNREADABLE` naming the file and the reason otherwise (SPEC §10). */
export async function readWasmFile(path: string): Promise<Uint8Array> {
  let handle: FileHandle | undefined
  try {
    handle = await open(path, 'r')
    const info = await handle.stat()
    if (info.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' })
    if (info.size > MAX_WASM_BYTES) {
      throw new ModuleError('WASM_INVALID', `${path}: ${info.size} bytes is larger than the WebAssembly engine limit of ${MAX_WASM_BYTES} bytes`)
    }
    const data = await handle.readFile()
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
  } catch (error) {
    if (error instanceof ModuleError) throw error
    throw new ModuleError('WASM_UNREADABLE', `${path}: ${describeReadError(errnoCode(error), error)}`, { cause: error })
  } finally {
    await handle?.close().catch(() => undefined)
  }
}
