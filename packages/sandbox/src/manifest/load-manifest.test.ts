import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { refusal } from '@igor/test-kit'
import { MAX_MANIFEST_BYTES, loadManifest, sidecarManifestPath } from './load-manifest.js'
import { EMPTY_MANIFEST } from './manifest.js'

let dir: string

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'igor-manifest-'))
})

afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('sidecarManifestPath', () => {
  it.each([
    ['agents/foo.wasm', 'agents/foo.manifest.json'],
    ['/a/b.c.wasm', '/a/b.c.manifest.json'],
    ['agent', 'agent.manifest.json'],
    ['agent.WASM', 'agent.WASM.manifest.json']
  ])('%s → %s', (wasm, manifest) => {
    expect(sidecarManifestPath(wasm)).toBe(manifest)
  })
})

describe('loadManifest', () => {
  it('reads the sidecar next to the binary', async () => {
    await writeFile(join(dir, 'foo.manifest.json'), '{"capabilities": {"clock": {"version": 1}}}')
    const manifest = await loadManifest(join(dir, 'foo.wasm'))
    expect(manifest.capabilities.has('clock')).toBe(true)
    expect(manifest.source).toBe(join(dir, 'foo.manifest.json'))
  })

  it('gives EMPTY_MANIFEST when there is no sidecar', async () => {
    expect(await loadManifest(join(dir, 'foo.wasm'))).toBe(EMPTY_MANIFEST)
  })

  it('prefers an explicit path over the sidecar', async () => {
    await writeFile(join(dir, 'foo.manifest.json'), '{"capabilities": {"clock": {"version": 1}}}')
    await writeFile(join(dir, 'other.json'), '{"capabilities": {"log": {"version": 1}}}')
    const manifest = await loadManifest(join(dir, 'foo.wasm'), join(dir, 'other.json'))
    expect([...manifest.capabilities.keys()]).toEqual(['log'])
  })

  it('refuses a missing explicit manifest, naming it', async () => {
    const path = join(dir, 'missing.json')
    const error = await refusal(loadManifest(join(dir, 'foo.wasm'), path))
    expect(error.code).toBe('MANIFEST_UNREADABLE')
    expect(error.message).toBe(`manifest ${path}: no such file`)
  })

  it('refuses a sidecar that is a directory', async () => {
    await mkdir(join(dir, 'foo.manifest.json'))
    const error = await refusal(loadManifest(join(dir, 'foo.wasm')))
    expect(error.code).toBe('MANIFEST_UNREADABLE')
    expect(error.message).toBe(`manifest ${join(dir, 'foo.manifest.json')}: is a directory`)
  })

  it.skipIf(process.getuid?.() === 0)('refuses an unreadable sidecar rather than treating it as absent', async () => {
    const path = join(dir, 'foo.manifest.json')
    await writeFile(path, '{}')
    await chmod(path, 0o000)
    const error = await refusal(loadManifest(join(dir, 'foo.wasm')))
    expect(error.message).toBe(`manifest ${path}: permission denied`)
  })

  it('passes the node memory limit through and names the file in validation errors', async () => {
    const path = join(dir, 'foo.manifest.json')
    await writeFile(path, '{"resource_limits": {"max_memory_bytes": 1048576}}')
    expect((await loadManifest(join(dir, 'foo.wasm'))).maxMemoryBytes).toBe(1048576)
    const error = await refusal(loadManifest(join(dir, 'foo.wasm'), undefined, { nodeMemoryLimitBytes: 65536 }))
    expect(error.code).toBe('MANIFEST_INVALID')
    expect(error.message).toBe(`manifest ${path}: resource_limits.max_memory_bytes 1048576 exceeds the node limit 65536`)
  })

  it('refuses a manifest larger than the cap', async () => {
    const path = join(dir, 'big.json')
    await writeFile(path, `{"pad": "${'x'.repeat(MAX_MANIFEST_BYTES)}"}`)
    const error = await refusal(loadManifest(join(dir, 'foo.wasm'), path))
    expect(error.code).toBe('MANIFEST_INVALID')
    expect(error.message).toBe(`manifest ${path}: larger than ${MAX_MANIFEST_BYTES} bytes`)
  })
})
