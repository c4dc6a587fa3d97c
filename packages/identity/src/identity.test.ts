import { mkdtemp, readFile, readdir, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  AgentIdentity, IDENTITY_FILE_LENGTH, IdentityError, base58btcDecode, base58btcEncode, decodeIdentity, didKey,
  parseDidKey, readIdentityFile, removeIdentityFile, verifySignature, writeIdentityFile
} from './index.js'

const hex = (text: string): Uint8Array => Uint8Array.from(Buffer.from(text, 'hex'))
const toHex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex')

// RFC 8032 §7.1, TEST 1.
const RFC_SEED = hex('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60')
const RFC_PUBLIC = 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a'
const RFC_SIGNATURE_EMPTY =
  'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b'
const RFC_DID = 'did:key:z6MktwupdmLXVVqTzCw4i46r4uGyosGXRnR3XjN4Zq7oMMsw'

function caught(fn: () => unknown): IdentityError {
  try {
    fn()
  } catch (error) {
    expect(error).toBeInstanceOf(IdentityError)
    return error as IdentityError
  }
  throw new Error('expected an IdentityError')
}

describe('Ed25519 and did:key (SPEC §12 vectors)', () => {
  it('derives the RFC 8032 test-1 public key, signature and DID', () => {
    const id = AgentIdentity.fromSeed(RFC_SEED)
    expect(id.publicKeyHex).toBe(RFC_PUBLIC)
    expect(toHex(id.sign(new Uint8Array(0)))).toBe(RFC_SIGNATURE_EMPTY)
    expect(id.did).toBe(RFC_DID)
    expect(didKey(hex(RFC_PUBLIC))).toBe(RFC_DID)
    expect(toHex(parseDidKey(RFC_DID))).toBe(RFC_PUBLIC)
  })

  it('verifies its own signatures and nothing else, never throwing', () => {
    const id = AgentIdentity.generate()
    const data = Uint8Array.of(1, 2, 3)
    const sig = id.sign(data)
    expect(verifySignature(id.publicKey, data, sig)).toBe(true)
    expect(verifySignature(id.publicKey, Uint8Array.of(1, 2, 4), sig)).toBe(false)
    expect(verifySignature(AgentIdentity.generate().publicKey, data, sig)).toBe(false)
    expect(verifySignature(new Uint8Array(31), data, sig)).toBe(false)
    expect(verifySignature(id.publicKey, data, sig.subarray(1))).toBe(false)
    // Not a point on the curve.
    expect(verifySignature(new Uint8Array(32).fill(0xff), data, sig)).toBe(false)
  })

  it('DIDs round-trip for random keys and every DID starts with z6Mk', () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (key) => {
      const did = didKey(key)
      expect(toHex(parseDidKey(did))).toBe(toHex(key))
    }), { numRuns: 200 })
    expect(AgentIdentity.generate().did.startsWith('did:key:z6Mk')).toBe(true)
  })

  it('refuses malformed DIDs with INVALID_KEY', () => {
    for (const bad of ['', 'did:key:z', 'did:web:example', 'did:key:z0OIl', 'did:key:z111', didKey(new Uint8Array(32)).slice(0, -2)]) {
      expect(caught(() => parseDidKey(bad)).code).toBe('INVALID_KEY')
    }
  })

  it('base58btc keeps leading zeros and round-trips arbitrary bytes', () => {
    expect(base58btcEncode(Uint8Array.of(0, 0, 1))).toBe('112')
    expect(base58btcEncode(new Uint8Array(0))).toBe('')
    // "hello world" in the Bitcoin alphabet.
    expect(base58btcEncode(new TextEncoder().encode('hello world'))).toBe('StV1DL6CwTryKyV')
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
      expect(toHex(base58btcDecode(base58btcEncode(bytes)))).toBe(toHex(bytes))
    }), { numRuns: 300 })
  })
})

describe('identity file format', () => {
  it('is u32 LE 64 ‖ seed ‖ publicKey, 68 bytes', () => {
    const bytes = AgentIdentity.fromSeed(RFC_SEED).toBytes()
    expect(bytes.length).toBe(IDENTITY_FILE_LENGTH)
    expect(toHex(bytes)).toBe('40000000' + toHex(RFC_SEED) + RFC_PUBLIC)
    expect(decodeIdentity(bytes).did).toBe(RFC_DID)
  })

  it('ignores bytes after 68, like the reference', () => {
    const bytes = new Uint8Array(80)
    bytes.set(AgentIdentity.fromSeed(RFC_SEED).toBytes())
    expect(decodeIdentity(bytes).did).toBe(RFC_DID)
  })

  it('refuses short, mis-sized, truncated and inconsistent files with their codes', () => {
    const good = AgentIdentity.fromSeed(RFC_SEED).toBytes()
    expect(caught(() => decodeIdentity(good.subarray(0, 3))).code).toBe('TOO_SHORT')
    expect(caught(() => decodeIdentity(new Uint8Array(0))).code).toBe('TOO_SHORT')
    const wrongLength = good.slice()
    wrongLength[0] = 32
    expect(caught(() => decodeIdentity(wrongLength)).code).toBe('BAD_KEY_LENGTH')
    for (const n of [4, 36, 67]) expect(caught(() => decodeIdentity(good.subarray(0, n))).code).toBe('TRUNCATED')
    const mismatch = good.slice()
    mismatch[67] = (mismatch[67] as number) ^ 1
    const e = caught(() => decodeIdentity(mismatch))
    expect(e.code).toBe('KEY_MISMATCH')
  })

  it('never throws anything but IdentityError for any bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 80 }), fc.boolean(), (bytes, prefix) => {
      if (prefix && bytes.length >= 4) bytes.set([64, 0, 0, 0])
      try {
        decodeIdentity(bytes)
      } catch (error) {
        expect(error).toBeInstanceOf(IdentityError)
      }
    }), { numRuns: 500 })
  })

  it('does not leak the seed through JSON or inspection', () => {
    const id = AgentIdentity.fromSeed(RFC_SEED)
    expect(JSON.stringify(id)).toBe(JSON.stringify({ did: RFC_DID }))
    expect(JSON.stringify(id)).not.toContain(toHex(RFC_SEED))
  })
})

describe('identity files on disk', () => {
  it('writes atomically with mode 0600 and reads back', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'igor-identity-'))
    const path = join(dir, 'agent.identity')
    const id = AgentIdentity.generate()
    await writeIdentityFile(path, id)
    expect((await stat(path)).mode & 0o777).toBe(0o600)
    expect((await readIdentityFile(path)).did).toBe(id.did)
    expect((await readFile(path)).length).toBe(68)
    // Replacing keeps 0600 and leaves no temporaries.
    await writeIdentityFile(path, id.toBytes())
    expect((await stat(path)).mode & 0o777).toBe(0o600)
    expect(await readdir(dir)).toEqual(['agent.identity'])
  })

  it('reports a missing, unreadable or corrupt file with a code naming the path', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'igor-identity-'))
    const missing = await readIdentityFile(join(dir, 'none.identity')).catch((error: unknown) => error)
    expect(missing).toBeInstanceOf(IdentityError)
    expect((missing as IdentityError).code).toBe('MISSING')
    await writeFile(join(dir, 'bad.identity'), Uint8Array.of(1, 2))
    const bad = (await readIdentityFile(join(dir, 'bad.identity')).catch((error: unknown) => error)) as IdentityError
    expect(bad.code).toBe('TOO_SHORT')
    expect(bad.message).toContain('bad.identity')
    const isDir = (await readIdentityFile(dir).catch((error: unknown) => error)) as IdentityError
    expect(isDir.code).toBe('IO')
    await removeIdentityFile(join(dir, 'bad.identity'))
    await removeIdentityFile(join(dir, 'bad.identity'))
    expect(await readdir(dir)).toEqual([])
  })
})
