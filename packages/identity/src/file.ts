import { chmod, readFile, unlink } from 'node:fs/promises'
import { basename, dirname } from 'node:path'
import { AtomicFileError, TEMP_SUFFIX, fsyncDirectory, writeFileAtomic } from '@igor/atomic-file'
import { IdentityError } from './errors.js'
import type { AgentIdentity } from './identity.js'
import { decodeIdentity } from './identity.js'

/** Identity files hold a secret key: owner read/write only (SPEC §12). */
export const IDENTITY_FILE_MODE = 0o600
/** Suffix of the temporaries `writeIdentityFile` uses; a crash can leave one behind. */
export const IDENTITY_TEMP_SUFFIX = TEMP_SUFFIX

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
  try {
    // The umask cannot widen 0600, but a filesystem default might; the mode is set explicitly.
    await writeFileAtomic(dirname(path), basename(path), bytes, { mode: IDENTITY_FILE_MODE, chmod: true })
  } catch (error) {
    if (!(error instanceof AtomicFileError)) throw error
    throw new IdentityError('IO', error.step === 'directory fsync' ? `${path}: directory fsync failed (${error.errno})` : `${path}: identity ${error.step} failed (${error.errno})`, { cause: error.cause ?? error })
  }
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
  try {
    await fsyncDirectory(dir)
  } catch (error) {
    if (!(error instanceof AtomicFileError)) throw error
    throw new IdentityError('IO', `${path}: directory fsync failed (${error.errno})`, { cause: error.cause ?? error })
  }
}
