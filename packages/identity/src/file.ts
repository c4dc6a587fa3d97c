import { randomBytes } from 'node:crypto'
import { chmod, open, readFile, rename, unlink } from 'node:fs/promises'
import type { FileHandle } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { IdentityError } from './errors.js'
import type { AgentIdentity } from './identity.js'
import { decodeIdentity } from './identity.js'

/** Identity files hold a secret key: owner read/write only (SPEC §12). */
export const IDENTITY_FILE_MODE = 0o600
/** Suffix of the temporaries `writeIdentityFile` uses; a crash can leave one behind. */
export const IDENTITY_TEMP_SUFFIX = '.tmp'

function errnoCode(error: unknown): string {
  if (typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string') return error.code
  return error instanceof Error ? error.message : String(error)
}

/**
 * Reads and checks an identity file. `IdentityError('MISSING')` when there is
 * none, `IO` when it cannot be read, else the decoding errors of `decodeIdentity`.
 */
export async function readIdentityFile(path: string): Promise<AgentIdentity> {
  let bytes: Uint8Array
  try {
    bytes = await readFile(path)
  } catch (error) {
    const code = errnoCode(error)
    if (code === 'ENOENT') throw new IdentityError('MISSING', `${path}: no identity file`, { cause: error })
    throw new IdentityError('IO', `${path}: cannot read identity (${code})`, { cause: error })
  }
  try {
    return decodeIdentity(bytes)
  } catch (error) {
    if (error instanceof IdentityError) throw new IdentityError(error.code, `${path}: ${error.message}`, { cause: error })
    throw error
  }
}

/**
 * Writes the 68-byte identity file atomically with mode 0600: temporary
 * (`wx`, 0600) → write → fsync → rename → fsync of the directory. A crash
 * leaves the old file or the new one, never a torn key. Throws `IdentityError('IO')`.
 */
export async function writeIdentityFile(path: string, identity: AgentIdentity | Uint8Array): Promise<void> {
  const bytes = identity instanceof Uint8Array ? decodeIdentity(identity).toBytes() : identity.toBytes()
  const dir = dirname(path)
  const temp = join(dir, `${basename(path)}.${randomBytes(8).toString('hex')}${IDENTITY_TEMP_SUFFIX}`)
  let handle: FileHandle | undefined
  let step = 'create temporary'
  try {
    handle = await open(temp, 'wx', IDENTITY_FILE_MODE)
    // The umask cannot widen 0600, but a filesystem default might; say it explicitly.
    step = 'chmod'
    await handle.chmod(IDENTITY_FILE_MODE)
    step = 'write'
    await handle.writeFile(bytes)
    step = 'fsync'
    await handle.sync()
    step = 'close'
    await handle.close()
    handle = undefined
    step = 'rename'
    await rename(temp, path)
  } catch (error) {
    await handle?.close().catch(() => undefined)
    await unlink(temp).catch(() => undefined)
    throw new IdentityError('IO', `${path}: identity ${step} failed (${errnoCode(error)})`, { cause: error })
  }
  await fsyncDir(dir, path)
}

/** Removes an identity file (a retired agent's); absent is fine. Throws `IdentityError('IO')`. */
export async function removeIdentityFile(path: string): Promise<void> {
  try {
    await unlink(path)
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return
    throw new IdentityError('IO', `${path}: identity remove failed (${errnoCode(error)})`, { cause: error })
  }
  await fsyncDir(dirname(path), path)
}

/** Tightens an existing identity file to 0600 (files written by an older node may be wider). */
export async function restrictIdentityFile(path: string): Promise<void> {
  try {
    await chmod(path, IDENTITY_FILE_MODE)
  } catch (error) {
    throw new IdentityError('IO', `${path}: identity chmod failed (${errnoCode(error)})`, { cause: error })
  }
}

async function fsyncDir(dir: string, path: string): Promise<void> {
  let handle: FileHandle | undefined
  try {
    handle = await open(dir, 'r')
    await handle.sync()
  } catch (error) {
    const code = errnoCode(error)
    if (code !== 'EINVAL' && code !== 'EISDIR') throw new IdentityError('IO', `${path}: directory fsync failed (${code})`, { cause: error })
  } finally {
    await handle?.close().catch(() => undefined)
  }
}
