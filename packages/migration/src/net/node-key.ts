import { randomBytes } from 'node:crypto'
import { link, mkdir, open, readFile, rename, stat, chmod, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { generateKeyPair, generateKeyPairFromSeed, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { MigrationError, describeCause } from '../errors.js'

/** File name of the node key inside the data directory (SPEC §6). */
export const NODE_KEY_FILE = 'node.key'

export type NodeKeyEvent =
  | { readonly kind: 'created'; readonly path: string }
  | { readonly kind: 'permissions-tightened'; readonly path: string; readonly previousMode: number }

export interface NodeKeyOptions {
  /** Told when the key was created, or when its file mode was tightened to 0600. */
  onEvent?: (event: NodeKeyEvent) => void
}

/**
 * The node's Ed25519 identity (SPEC §6): read from `<dataDir>/node.key`
 * (libp2p protobuf encoding, the same bytes the Go implementation writes), or
 * created there on first start with mode 0600 so the peer id stays stable.
 *
 * Creation is atomic (temp file, fsync, hard link into place, directory
 * fsync): a crash leaves either no key or a whole one, and two processes
 * starting at once agree on one key. An existing file that cannot be read or
 * is not a consistent Ed25519 key → `MigrationError('NODE_KEY_INVALID')`
 * naming it, and the file is left untouched. A valid key file with group or
 * other permission bits is tightened to 0600 (reported through `onEvent`).
 */
export async function loadOrCreateNodeKey(dataDir: string, options: NodeKeyOptions = {}): Promise<PrivateKey> {
  const path = join(dataDir, NODE_KEY_FILE)
  const existing = await readKeyFile(path)
  if (existing !== undefined) {
    const key = await parseNodeKey(path, existing)
    await tightenMode(path, options)
    return key
  }
  try {
    await mkdir(dataDir, { recursive: true, mode: 0o700 })
  } catch (err) {
    throw new MigrationError('NODE_KEY_WRITE_FAILED', `${path}: cannot create the data directory: ${describeCause(err)}`, { cause: err })
  }
  const key = await generateKeyPair('Ed25519')
  const won = await writeKeyFileOnce(path, dataDir, privateKeyToProtobuf(key))
  if (!won) {
    // Another process created the key first: use theirs, so both agree.
    const theirs = await readKeyFile(path)
    if (theirs === undefined) throw new MigrationError('NODE_KEY_INVALID', `${path}: vanished while being created`)
    return await parseNodeKey(path, theirs)
  }
  options.onEvent?.({ kind: 'created', path })
  return key
}

async function readKeyFile(path: string): Promise<Uint8Array | undefined> {
  try {
    return await readFile(path)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    // ENOTDIR: the data directory is not a directory; creating it reports that.
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined
    throw new MigrationError('NODE_KEY_INVALID', `${path}: unreadable: ${describeCause(err)}`, { cause: err })
  }
}

/** Decodes and checks a key file's bytes; throws `NODE_KEY_INVALID` naming the file. */
export async function parseNodeKey(path: string, bytes: Uint8Array): Promise<PrivateKey> {
  let key: PrivateKey
  try {
    key = privateKeyFromProtobuf(bytes)
  } catch (err) {
    throw new MigrationError('NODE_KEY_INVALID', `${path}: not a libp2p private key: ${describeCause(err)}`, { cause: err })
  }
  if (key.type !== 'Ed25519') throw new MigrationError('NODE_KEY_INVALID', `${path}: expected an Ed25519 key, found ${key.type}`)
  // The protobuf carries seed and public key side by side and libp2p trusts
  // both; a flipped bit in either half must not yield a half-valid identity.
  const raw = key.raw
  const canonical = privateKeyToProtobuf(key)
  if (raw.length !== 64 || !Buffer.from(canonical).equals(Buffer.from(bytes))) {
    throw new MigrationError('NODE_KEY_INVALID', `${path}: not a canonical Ed25519 key encoding`)
  }
  const derived = await generateKeyPairFromSeed('Ed25519', raw.subarray(0, 32))
  if (!derived.publicKey.equals(key.publicKey)) {
    throw new MigrationError('NODE_KEY_INVALID', `${path}: public key does not match the private key`)
  }
  return key
}

async function tightenMode(path: string, options: NodeKeyOptions): Promise<void> {
  const { mode } = await stat(path)
  if ((mode & 0o077) === 0) return
  try {
    await chmod(path, 0o600)
  } catch (err) {
    // A secret others can read, that we cannot lock down, is not used.
    const shown = (mode & 0o777).toString(8).padStart(4, '0')
    throw new MigrationError('NODE_KEY_INVALID', `${path}: mode ${shown} is open to others and cannot be tightened: ${describeCause(err)}`, { cause: err })
  }
  options.onEvent?.({ kind: 'permissions-tightened', path, previousMode: mode & 0o777 })
}

/** Writes `bytes` to `path` only if nothing is there; false when another writer won. */
async function writeKeyFileOnce(path: string, dir: string, bytes: Uint8Array): Promise<boolean> {
  const temp = `${path}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`
  try {
    const handle = await open(temp, 'wx', 0o600)
    try {
      await handle.chmod(0o600) // whatever the umask
      await handle.writeFile(bytes)
      await handle.sync()
    } finally {
      await handle.close()
    }
    let won = true
    try {
      await link(temp, path) // fails with EEXIST instead of replacing a key another process just wrote
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      if (code === 'EEXIST') won = false
      else if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EOPNOTSUPP' || code === 'EXDEV') await rename(temp, path) // no hard links here
      else throw err
    }
    await syncDir(dir)
    return won
  } catch (err) {
    throw new MigrationError('NODE_KEY_WRITE_FAILED', `${path}: cannot write the node key: ${describeCause(err)}`, { cause: err })
  } finally {
    await unlink(temp).catch(() => {})
  }
}

async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}
