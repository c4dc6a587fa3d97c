import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { refusal } from '@igor/test-kit'
import { readWasmFile } from './read-wasm.js'

let dir: string

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'igor-wasm-'))
})

afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('readWasmFile', () => {
  it('returns the bytes as a plain Uint8Array', async () => {
    const path = join(dir, 'a.wasm')
    await writeFile(path, new Uint8Array([0, 0x61, 0x73, 0x6d]))
    const bytes = await readWasmFile(path)
    expect(bytes).toEqual(new Uint8Array([0, 0x61, 0x73, 0x6d]))
  })

  it('names a missing file', async () => {
    const path = join(dir, 'missing.wasm')
    const error = await refusal(readWasmFile(path))
    expect(error.code).toBe('WASM_UNREADABLE')
    expect(error.message).toBe(`${path}: no such file`)
  })

  it('names a directory', async () => {
    const error = await refusal(readWasmFile(dir))
    expect(error.code).toBe('WASM_UNREADABLE')
    expect(error.message).toBe(`${dir}: is a directory`)
  })

  it('names a path through a file', async () => {
    const file = join(dir, 'f')
    await writeFile(file, '')
    const error = await refusal(readWasmFile(join(file, 'x.wasm')))
    expect(error.message).toBe(`${join(file, 'x.wasm')}: a parent of it is not a directory`)
  })

  it.skipIf(process.getuid?.() === 0)('names a file it may not read', async () => {
    const path = join(dir, 'secret.wasm')
    await writeFile(path, '')
    await chmod(path, 0o000)
    const error = await refusal(readWasmFile(path))
    expect(error.message).toBe(`${path}: permission denied`)
  })
})
