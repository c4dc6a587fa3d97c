import { mkdir, mkdtemp, readFile, readdir, rm, rmdir, stat, utimes, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type CheckpointInput, encodeCheckpoint } from '@igor/checkpoint-codec'
import { Epoch, U64_MAX } from '@igor/epoch'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { RunnerError } from '../errors.js'
import { CheckpointStore } from './checkpoint-store.js'

let dataDir: string

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'igor-store-'))
})

afterEach(async () => {
  await rm(dataDir, { recursive: true, force: true })
})

function input(epoch: Epoch, tickNumber = 1n, state = new Uint8Array([1, 2, 3])): CheckpointInput {
  return { budget: 1_000_000n, pricePerSecond: 1000n, tickNumber, wasmHash: new Uint8Array(32).fill(7), epoch, leaseExpiry: 0n, state }
}

async function rejection(promise: Promise<unknown>): Promise<RunnerError> {
  try {
    await promise
  } catch (error) {
    expect(error).toBeInstanceOf(RunnerError)
    return error as RunnerError
  }
  throw new Error('expected a rejection')
}

/** Gives the file an old mtime so a rewrite, even of identical bytes, would show. */
async function snapshot(path: string): Promise<{ bytes: Uint8Array, mtimeMs: number }> {
  const past = new Date('2001-01-01T00:00:00Z')
  await utimes(path, past, past)
  return { bytes: await readFile(path), mtimeMs: (await stat(path)).mtimeMs }
}

async function expectUnchanged(path: string, before: { bytes: Uint8Array, mtimeMs: number }): Promise<void> {
  expect(await readFile(path)).toEqual(before.bytes)
  expect((await stat(path)).mtimeMs).toBe(before.mtimeMs)
}

describe('CheckpointStore.open', () => {
  it('creates <dataDir>/checkpoints with mode 0700', async () => {
    const store = await CheckpointStore.open(join(dataDir, 'node'))
    expect(store.dir).toBe(join(dataDir, 'node', 'checkpoints'))
    const info = await stat(store.dir)
    expect(info.isDirectory()).toBe(true)
    expect(info.mode & 0o777).toBe(0o700)
  })

  it('removes stale temporaries and nothing else', async () => {
    const dir = join(dataDir, 'checkpoints')
    await mkdir(dir, { recursive: true })
    await writeFile(join(dir, 'x.checkpoint.abc.tmp'), 'torn')
    await writeFile(join(dir, 'y.authority.json.0123.tmp'), 'torn')
    await writeFile(join(dir, 'x.checkpoint'), encodeCheckpoint(input(Epoch.ZERO)))
    await writeFile(join(dir, 'notes.txt'), 'operator notes')
    await CheckpointStore.open(dataDir)
    expect((await readdir(dir)).sort()).toEqual(['notes.txt', 'x.checkpoint'])
  })

  it('fails with STORE_IO when the directory cannot be created', async () => {
    await writeFile(join(dataDir, 'checkpoints'), 'a file in the way')
    const error = await rejection(CheckpointStore.open(dataDir))
    expect(error.code).toBe('STORE_IO')
    expect(error.message).toContain(join(dataDir, 'checkpoints'))
    expect(error.message).toMatch(/\(E[A-Z]+\)/)
  })
})

describe('save and load', () => {
  it('round-trips a CheckpointInput and pre-encoded bytes', async () => {
    const store = await CheckpointStore.open(dataDir)
    expect(await store.load('a')).toBeNull()
    await store.save('a', input(new Epoch(U64_MAX, U64_MAX), U64_MAX, new Uint8Array([9, 8, 7])))
    const a = await store.load('a')
    expect(a?.version).toBe(3)
    expect(a?.tickNumber).toBe(U64_MAX)
    expect(a?.epoch.equals(new Epoch(U64_MAX, U64_MAX))).toBe(true)
    expect(a?.state).toEqual(new Uint8Array([9, 8, 7]))

    const bytes = encodeCheckpoint(input(new Epoch(1n, 2n), 5n))
    await store.save('b', bytes)
    expect(await readFile(store.checkpointPath('b'))).toEqual(Buffer.from(bytes))
    expect((await store.load('b'))?.tickNumber).toBe(5n)
  })

  it('writes a CheckpointInput byte-identical to encodeCheckpoint(input)', async () => {
    const store = await CheckpointStore.open(dataDir)
    const checkpoint = input(new Epoch((1n << 53n) + 1n, 3n), 77n, new Uint8Array(70_000).fill(0x5a))
    await store.save('a', checkpoint)
    expect(await readFile(store.checkpointPath('a'))).toEqual(Buffer.from(encodeCheckpoint(checkpoint)))
    await store.save('empty', input(Epoch.ZERO, 0n, new Uint8Array(0)))
    expect((await store.load('empty'))?.state.length).toBe(0)
  })

  it('writes files with mode 0600 and leaves no temporaries', async () => {
    const store = await CheckpointStore.open(dataDir)
    await store.save('a', input(Epoch.ZERO))
    await store.save('a', input(Epoch.ZERO, 2n))
    await store.writeAuthority('a', { state: 'ACTIVE_OWNER', epoch: Epoch.ZERO, updatedAtNs: 1n })
    await store.writeTombstone('a', { agentId: 'a', epoch: Epoch.ZERO, movedTo: 'p', retiredAtNs: 1n })
    const names = (await readdir(store.dir)).sort()
    expect(names).toEqual(['a.authority.json', 'a.checkpoint', 'a.tombstone.json'])
    for (const name of names) expect((await stat(join(store.dir, name))).mode & 0o777).toBe(0o600)
  })

  it('refuses bytes that do not decode or are not v0x03', async () => {
    const store = await CheckpointStore.open(dataDir)
    const garbage = await rejection(store.save('a', new Uint8Array([3, 1, 2])))
    expect(garbage.code).toBe('CHECKPOINT_INVALID')
    expect(garbage.message).toContain('"a"')
    const v2 = new Uint8Array(57)
    v2[0] = 2
    const legacy = await rejection(store.save('a', v2))
    expect(legacy.code).toBe('CHECKPOINT_INVALID')
    expect(legacy.message).toContain('v0x03')
    const negative = await rejection(store.save('a', { ...input(Epoch.ZERO), budget: -1n }))
    expect(negative.code).toBe('CHECKPOINT_INVALID')
    expect(negative.message).toContain('negative')
    expect((await rejection(store.save('a', { ...input(Epoch.ZERO), tickNumber: U64_MAX + 1n }))).code).toBe('CHECKPOINT_INVALID')
    expect((await rejection(store.save('a', { ...input(Epoch.ZERO), state: 'x' as never }))).message).toContain('state must be a Uint8Array')
    expect(await readdir(store.dir)).toEqual([])
  })
})

describe('fencing (SPEC §5)', () => {
  it('refuses an older epoch and leaves the file byte-identical', async () => {
    const store = await CheckpointStore.open(dataDir)
    await store.save('a', input(new Epoch(2n, 0n)))
    const path = store.checkpointPath('a')
    const before = await snapshot(path)
    const error = await rejection(store.save('a', input(new Epoch(1n, 9n))))
    expect(error.code).toBe('FENCED')
    expect(error.message).toContain('(2,0)')
    expect(error.message).toContain('(1,9)')
    await expectUnchanged(path, before)
  })

  it('accepts an equal epoch and a newer one', async () => {
    const store = await CheckpointStore.open(dataDir)
    await store.save('a', input(new Epoch(2n, 0n), 1n))
    await store.save('a', input(new Epoch(2n, 0n), 2n))
    expect((await store.load('a'))?.tickNumber).toBe(2n)
    await store.save('a', input(new Epoch(2n, 1n), 3n))
    await store.save('a', input(new Epoch(3n, 0n), 4n))
    const loaded = await store.load('a')
    expect(loaded?.tickNumber).toBe(4n)
    expect(loaded?.epoch.toString()).toBe('(3,0)')
  })

  it('still fences after the store is re-opened (reads the stored header)', async () => {
    const first = await CheckpointStore.open(dataDir)
    await first.save('a', input(new Epoch(5n, 3n)))
    const second = await CheckpointStore.open(dataDir)
    const path = second.checkpointPath('a')
    const before = await snapshot(path)
    expect((await rejection(second.save('a', input(new Epoch(5n, 2n))))).code).toBe('FENCED')
    await expectUnchanged(path, before)
    await second.save('a', input(new Epoch(5n, 3n)))
  })

  it('fences against a file written by another holder of a newer epoch at the first save', async () => {
    const store = await CheckpointStore.open(dataDir)
    await writeFile(store.checkpointPath('a'), encodeCheckpoint(input(new Epoch(1n, 0n))))
    expect((await rejection(store.save('a', input(new Epoch(0n, 7n))))).code).toBe('FENCED')
  })

  it('treats a stored v0x02 checkpoint as epoch (0,0)', async () => {
    const store = await CheckpointStore.open(dataDir)
    const v2 = new Uint8Array(57 + 2)
    v2[0] = 2
    await writeFile(store.checkpointPath('a'), v2)
    await store.save('a', input(Epoch.ZERO))
    expect((await store.load('a'))?.version).toBe(3)
  })

  it('forgets the cached epoch when a write fails, and re-reads the header next time', async () => {
    const store = await CheckpointStore.open(dataDir)
    await store.save('a', input(new Epoch(1n, 0n)))
    const path = store.checkpointPath('a')
    // A directory in place of the file makes the rename fail after the cached fencing check passed.
    await rm(path)
    await mkdir(path)
    const io = await rejection(store.save('a', input(new Epoch(1n, 1n))))
    expect(io.code).toBe('STORE_IO')
    expect(io.message).toContain(path)
    expect(await readdir(store.dir)).toEqual(['a.checkpoint'])
    await rmdir(path)
    // Meanwhile a newer holder wrote (4,0); the store must notice it rather than trust a stale cache.
    await writeFile(path, encodeCheckpoint(input(new Epoch(4n, 0n))))
    expect((await rejection(store.save('a', input(new Epoch(1n, 2n))))).code).toBe('FENCED')
  })
})

describe('corrupt checkpoints (SPEC §5, §10)', () => {
  const cases: Array<[string, Uint8Array]> = [
    ['garbage', new TextEncoder().encode('this is not a checkpoint')],
    ['empty', new Uint8Array(0)],
    ['truncated v0x03 header', encodeCheckpoint(input(new Epoch(1n, 0n))).subarray(0, 40)],
    ['negative budget', (() => {
      const bytes = encodeCheckpoint(input(Epoch.ZERO))
      bytes[8] = 0x80
      return bytes
    })()]
  ]

  it.each(cases)('%s: load, save and delete refuse and leave it byte-identical', async (_label, bytes) => {
    const store = await CheckpointStore.open(dataDir)
    const path = store.checkpointPath('a')
    await writeFile(path, bytes)
    const before = await snapshot(path)

    const loadError = await rejection(store.load('a'))
    expect(loadError.code).toBe('CHECKPOINT_CORRUPT')
    expect(loadError.message.startsWith(`${path}: `)).toBe(true)
    await expectUnchanged(path, before)

    const saveError = await rejection(store.save('a', input(new Epoch(9n, 9n))))
    expect(saveError.code).toBe('CHECKPOINT_CORRUPT')
    expect(saveError.message).toContain(path)
    await expectUnchanged(path, before)

    expect((await rejection(store.delete('a'))).code).toBe('CHECKPOINT_CORRUPT')
    await expectUnchanged(path, before)
    expect(await readdir(store.dir)).toEqual(['a.checkpoint'])
  })
})

describe('agent ids', () => {
  const bad = ['../x', 'a/b', '', '.', '..', 'x\0y', 'x'.repeat(129)]

  it.each(bad)('refuses %j in every operation', async (id) => {
    const store = await CheckpointStore.open(dataDir)
    const record = { state: 'ACTIVE_OWNER' as const, epoch: Epoch.ZERO, updatedAtNs: 0n }
    const operations: Array<Promise<unknown>> = [
      store.save(id, input(Epoch.ZERO)),
      store.load(id),
      store.delete(id),
      store.readAuthority(id),
      store.writeAuthority(id, record),
      store.deleteAuthority(id),
      store.readTombstone(id),
      store.writeTombstone(id, { agentId: id, epoch: Epoch.ZERO, movedTo: 'p', retiredAtNs: 0n }),
      store.deleteTombstone(id)
    ]
    for (const operation of operations) expect((await rejection(operation)).code).toBe('INVALID_AGENT_ID')
    expect(() => store.checkpointPath(id)).toThrow(RunnerError)
    expect(await readdir(store.dir)).toEqual([])
    expect((await readdir(dataDir)).sort()).toEqual(['checkpoints'])
  })
})

describe('authority records and tombstones', () => {
  it('round-trips an authority record with u64 extremes', async () => {
    const store = await CheckpointStore.open(dataDir)
    expect(await store.readAuthority('a')).toBeNull()
    await store.writeAuthority('a', { state: 'HANDOFF_PENDING', epoch: new Epoch(U64_MAX, U64_MAX), peer: '12D3KooWpeer', updatedAtNs: U64_MAX })
    const reopened = await CheckpointStore.open(dataDir)
    const record = await reopened.readAuthority('a')
    expect(record?.state).toBe('HANDOFF_PENDING')
    expect(record?.epoch.equals(new Epoch(U64_MAX, U64_MAX))).toBe(true)
    expect(record?.peer).toBe('12D3KooWpeer')
    expect(record?.updatedAtNs).toBe(U64_MAX)
    expect(await readFile(reopened.authorityPath('a'), 'utf8')).toContain('"18446744073709551615"')
    await reopened.deleteAuthority('a')
    expect(await reopened.readAuthority('a')).toBeNull()
    await reopened.deleteAuthority('a')
  })

  it('round-trips a tombstone with u64 extremes', async () => {
    const store = await CheckpointStore.open(dataDir)
    expect(await store.readTombstone('a')).toBeNull()
    await store.writeTombstone('a', { agentId: 'a', epoch: new Epoch(U64_MAX, 0n), movedTo: 'node-b', retiredAtNs: U64_MAX })
    const tombstone = await store.readTombstone('a')
    expect(tombstone).toEqual({ agentId: 'a', epoch: new Epoch(U64_MAX, 0n), movedTo: 'node-b', retiredAtNs: U64_MAX })
    await store.deleteTombstone('a')
    expect(await store.readTombstone('a')).toBeNull()
  })

  it.each([
    ['authority', 'a.authority.json', (s: CheckpointStore) => s.readAuthority('a'), 'malformed authority record'],
    ['tombstone', 'a.tombstone.json', (s: CheckpointStore) => s.readTombstone('a'), 'malformed tombstone']
  ])('a malformed %s file is CHECKPOINT_CORRUPT naming the file, never absent', async (_kind, name, read, text) => {
    const store = await CheckpointStore.open(dataDir)
    const path = join(store.dir, name)
    for (const content of ['', '{"format":1', '{"format":1,"agentId":"a"}', '\xff']) {
      await writeFile(path, content === '\xff' ? new Uint8Array([0xff]) : content)
      const error = await rejection(read(store))
      expect(error.code).toBe('CHECKPOINT_CORRUPT')
      expect(error.message.startsWith(`${path}: ${text}`)).toBe(true)
    }
  })

  it('reports STORE_IO and cleans up when the rename fails', async () => {
    const store = await CheckpointStore.open(dataDir)
    const path = store.authorityPath('a')
    await mkdir(path)
    const error = await rejection(store.writeAuthority('a', { state: 'RETIRED', epoch: Epoch.ZERO, updatedAtNs: 0n }))
    expect(error.code).toBe('STORE_IO')
    expect(error.message).toMatch(new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: rename failed \\(E[A-Z]+\\)$`))
    expect(await readdir(store.dir)).toEqual(['a.authority.json'])
  })
})

describe('delete and listAgents', () => {
  it('deletes a checkpoint and forgets its epoch', async () => {
    const store = await CheckpointStore.open(dataDir)
    await store.save('a', input(new Epoch(3n, 0n)))
    await store.delete('a')
    expect(await store.load('a')).toBeNull()
    await store.save('a', input(new Epoch(1n, 0n)))
    expect((await store.load('a'))?.epoch.toString()).toBe('(1,0)')
    await store.delete('missing')
  })

  it('lists ids with any of the three files, sorted, ignoring other files', async () => {
    const store = await CheckpointStore.open(dataDir)
    await store.save('zeta', input(Epoch.ZERO))
    await store.writeAuthority('alpha', { state: 'RECOVERY_REQUIRED', epoch: Epoch.ZERO, reason: 'lease expired', updatedAtNs: 0n })
    await store.writeTombstone('mid.dle', { agentId: 'mid.dle', epoch: Epoch.ZERO, movedTo: 'p', retiredAtNs: 0n })
    await store.save('alpha', input(Epoch.ZERO))
    await writeFile(join(store.dir, 'README'), 'x')
    await writeFile(join(store.dir, '.hidden.checkpoint'), 'x')
    expect(await store.listAgents()).toEqual(['alpha', 'mid.dle', 'zeta'])
  })
})

describe('concurrency', () => {
  it('serializes 20 un-awaited saves with increasing epochs', async () => {
    const store = await CheckpointStore.open(dataDir)
    const saves = Array.from({ length: 20 }, (_, i) => store.save('a', input(new Epoch(BigInt(i), 0n), BigInt(i))))
    const results = await Promise.allSettled(saves)
    expect(results.filter((r) => r.status === 'rejected')).toEqual([])
    const last = await store.load('a')
    expect(last?.epoch.toString()).toBe('(19,0)')
    expect(last?.tickNumber).toBe(19n)
    expect(await readdir(store.dir)).toEqual(['a.checkpoint'])
  })

  it('applies operations in call order: a stale save queued after a newer one is fenced', async () => {
    const store = await CheckpointStore.open(dataDir)
    const newer = store.save('a', input(new Epoch(2n, 0n)))
    const stale = store.save('a', input(new Epoch(1n, 0n)))
    const read = store.load('a')
    await newer
    expect((await rejection(stale)).code).toBe('FENCED')
    expect((await read)?.epoch.toString()).toBe('(2,0)')
  })

  it('keeps agents independent', async () => {
    const store = await CheckpointStore.open(dataDir)
    await Promise.all(['a', 'b', 'c'].map((id, i) => store.save(id, input(new Epoch(BigInt(i), 0n)))))
    expect(await store.listAgents()).toEqual(['a', 'b', 'c'])
  })
})

describe('stored modules', () => {
  it('round-trips binary and manifest in one 0600 file', async () => {
    const store = await CheckpointStore.open(dataDir)
    expect(await store.loadModule('a')).toBeNull()
    const wasm = new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0])
    const manifest = new TextEncoder().encode('{"capabilities": {}}')
    await store.saveModule('a', wasm, manifest)
    const stored = await store.loadModule('a')
    expect(stored?.wasm).toEqual(wasm)
    expect(stored?.manifest).toEqual(manifest)
    expect((await stat(store.modulePath('a'))).mode & 0o777).toBe(0o600)
    await store.saveModule('a', wasm)
    expect((await store.loadModule('a'))?.manifest.length).toBe(0)
    await store.deleteModule('a')
    expect(await store.loadModule('a')).toBeNull()
    await store.deleteModule('a')
  })

  it.each([
    ['foreign bytes', new TextEncoder().encode('hello')],
    ['truncated manifest', new Uint8Array([...new TextEncoder().encode('IGORMOD\x01'), 200, 0, 0, 0, 1, 2])]
  ])('%s is CHECKPOINT_CORRUPT naming the file', async (_label, bytes) => {
    const store = await CheckpointStore.open(dataDir)
    await writeFile(store.modulePath('a'), bytes)
    const error = await rejection(store.loadModule('a'))
    expect(error.code).toBe('CHECKPOINT_CORRUPT')
    expect(error.message.startsWith(`${store.modulePath('a')}: `)).toBe(true)
  })
})
