import { chmod, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { AtomicFileError, TEMP_SUFFIX, removeStaleTemporaries, writeFileAtomic } from './index.js'

let dir: string
beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'igor-atomic-')) })
afterEach(async () => { await chmod(dir, 0o700).catch(() => undefined); await rm(dir, { recursive: true, force: true }) })

describe('writeFileAtomic', () => {
  it('replaces a file whole, 0600 by default, from one buffer or from chunks, leaving no temporary', async () => {
    await writeFileAtomic(dir, 'f', new TextEncoder().encode('old'))
    await writeFileAtomic(dir, 'f', [new TextEncoder().encode('ne'), new Uint8Array(0), new TextEncoder().encode('w')])
    expect(await readFile(join(dir, 'f'), 'utf8')).toBe('new')
    expect((await stat(join(dir, 'f'))).mode & 0o777).toBe(0o600)
    expect(await readdir(dir)).toEqual(['f'])
  })

  it('takes another mode, set explicitly when asked', async () => {
    await writeFileAtomic(dir, 'g', new Uint8Array([1]), { mode: 0o640, chmod: true })
    expect((await stat(join(dir, 'g'))).mode & 0o777).toBe(0o640)
  })

  it('a failure names the path and the step, and leaves the old file and no temporary', async () => {
    await writeFileAtomic(dir, 'f', new TextEncoder().encode('old'))
    await chmod(dir, 0o500)
    const error = await writeFileAtomic(dir, 'f', new Uint8Array([1])).catch((e: unknown) => e)
    await chmod(dir, 0o700)
    // root may write anyway; then the write simply succeeded.
    if (error instanceof AtomicFileError) {
      expect(error.code).toBe('IO')
      expect(error.step).toBe('create temporary')
      expect(error.message).toMatch(/: create temporary failed \(EACCES\)$/)
      expect(await readFile(join(dir, 'f'), 'utf8')).toBe('old')
    }
    expect((await readdir(dir)).filter((n) => n.endsWith(TEMP_SUFFIX))).toEqual([])
  })
})

describe('removeStaleTemporaries', () => {
  it('removes what a crash left, and only that', async () => {
    await writeFile(join(dir, `f.0123${TEMP_SUFFIX}`), 'torn')
    await writeFile(join(dir, 'f'), 'kept')
    expect(await removeStaleTemporaries(dir)).toEqual([`f.0123${TEMP_SUFFIX}`])
    expect(await readdir(dir)).toEqual(['f'])
  })
})
