import { mkdir, mkdtemp, readdir, readFile, rm, stat, chmod, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKeyPair, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { afterAll, beforeEach, describe, expect, it } from 'vitest'
import { loadOrCreateNodeKey, NODE_KEY_FILE } from './node-key.js'
import type { NodeKeyEvent } from './node-key.js'
import { asyncRefusal as refusal } from '../test-support.js'

const root = await mkdtemp(join(tmpdir(), 'igor-node-key-'))
let dir: string
let n = 0
beforeEach(() => {
  dir = join(root, `case-${n++}`, 'data')
})
afterAll(async () => {
  await rm(root, { recursive: true, force: true })
})

const mode = async (path: string): Promise<number> => (await stat(path)).mode & 0o777

/** Writes `bytes` as the key file and returns a check that it was left exactly as written. */
async function plant(bytes: Uint8Array | string, fileMode = 0o600): Promise<() => Promise<void>> {
  await mkdir(dir, { recursive: true })
  const path = join(dir, NODE_KEY_FILE)
  await writeFile(path, bytes, { mode: fileMode })
  await chmod(path, fileMode)
  const before = await readFile(path)
  return async () => {
    expect(Buffer.compare(await readFile(path), before)).toBe(0)
    expect(await mode(path)).toBe(fileMode)
  }
}

describe('loadOrCreateNodeKey', () => {
  it('creates an Ed25519 key with mode 0600 (and the data directory), then reuses it', async () => {
    const events: NodeKeyEvent[] = []
    const first = await loadOrCreateNodeKey(dir, { onEvent: (e) => events.push(e) })
    const path = join(dir, NODE_KEY_FILE)
    expect(first.type).toBe('Ed25519')
    expect(events).toEqual([{ kind: 'created', path }])
    expect(await mode(path)).toBe(0o600)
    expect(Buffer.compare(await readFile(path), privateKeyToProtobuf(first))).toBe(0)
    expect(await readdir(dir)).toEqual([NODE_KEY_FILE]) // no temp files left behind

    const again = await loadOrCreateNodeKey(dir, { onEvent: (e) => events.push(e) })
    expect(peerIdFromPrivateKey(again).toString()).toBe(peerIdFromPrivateKey(first).toString())
    expect(events).toHaveLength(1)
  })

  it('agrees on one key when two starts race', async () => {
    const [a, b, c] = await Promise.all([loadOrCreateNodeKey(dir), loadOrCreateNodeKey(dir), loadOrCreateNodeKey(dir)])
    const ids = [a, b, c].map((k) => peerIdFromPrivateKey(k).toString())
    expect(new Set(ids).size).toBe(1)
    expect(peerIdFromPrivateKey(await loadOrCreateNodeKey(dir)).toString()).toBe(ids[0])
    expect(await readdir(dir)).toEqual([NODE_KEY_FILE])
  })

  it('tightens a key readable by others to 0600 and says so', async () => {
    const key = await generateKeyPair('Ed25519')
    await plant(privateKeyToProtobuf(key), 0o644)
    const events: NodeKeyEvent[] = []
    const loaded = await loadOrCreateNodeKey(dir, { onEvent: (e) => events.push(e) })
    expect(loaded.equals(key)).toBe(true)
    expect(await mode(join(dir, NODE_KEY_FILE))).toBe(0o600)
    expect(events).toEqual([{ kind: 'permissions-tightened', path: join(dir, NODE_KEY_FILE), previousMode: 0o644 }])
  })

  it('refuses a corrupt key file, naming it, and leaves it untouched', async () => {
    const untouched = await plant('not a key at all', 0o644)
    const err = await refusal(loadOrCreateNodeKey(dir))
    expect(err.code).toBe('NODE_KEY_INVALID')
    expect(err.message.startsWith(`${join(dir, NODE_KEY_FILE)}: `)).toBe(true)
    await untouched()
  })

  it('refuses an empty key file', async () => {
    const untouched = await plant('')
    expect((await refusal(loadOrCreateNodeKey(dir))).code).toBe('NODE_KEY_INVALID')
    await untouched()
  })

  it('refuses a key whose public half does not match its private half', async () => {
    const bytes = privateKeyToProtobuf(await generateKeyPair('Ed25519'))
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] as number) ^ 1
    const untouched = await plant(bytes)
    const err = await refusal(loadOrCreateNodeKey(dir))
    expect(err.message).toBe(`${join(dir, NODE_KEY_FILE)}: public key does not match the private key`)
    await untouched()
  })

  it('refuses a key of another type and trailing bytes', async () => {
    const untouched = await plant(privateKeyToProtobuf(await generateKeyPair('secp256k1')))
    expect((await refusal(loadOrCreateNodeKey(dir))).message).toBe(`${join(dir, NODE_KEY_FILE)}: expected an Ed25519 key, found secp256k1`)
    await untouched()

    const valid = privateKeyToProtobuf(await generateKeyPair('Ed25519'))
    const untouched2 = await plant(Buffer.concat([valid, Buffer.from([0x18, 0x01])]))
    expect((await refusal(loadOrCreateNodeKey(dir))).code).toBe('NODE_KEY_INVALID')
    await untouched2()
  })

  it('refuses an unreadable key file', async () => {
    await mkdir(join(dir, NODE_KEY_FILE), { recursive: true })
    const err = await refusal(loadOrCreateNodeKey(dir))
    expect(err.code).toBe('NODE_KEY_INVALID')
    expect(err.message).toMatch(/node\.key: unreadable: .*EISDIR/)
  })

  it('reports a data directory it cannot create', async () => {
    await mkdir(join(dir, '..'), { recursive: true })
    await writeFile(dir, 'a file where the directory should be')
    const err = await refusal(loadOrCreateNodeKey(join(dir, 'sub')))
    expect(err.code).toBe('NODE_KEY_WRITE_FAILED')
    expect(err.message).toMatch(new RegExp(`^${join(dir, 'sub', NODE_KEY_FILE)}: cannot create the data directory: .*(EEXIST|ENOTDIR)`))
  })
})
