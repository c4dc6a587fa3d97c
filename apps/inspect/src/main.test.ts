// In-process: what apps/igord reuses for --inspect-checkpoint.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { main, runInspect } from './index.js'

function capture(): { io: { stdout: { write(s: string): boolean }, stderr: { write(s: string): boolean } }, out: () => string, err: () => string } {
  let out = ''
  let err = ''
  return {
    io: { stdout: { write: (s) => { out += s; return true } }, stderr: { write: (s) => { err += s; return true } } },
    out: () => out,
    err: () => err
  }
}

const dir = mkdtempSync(join(tmpdir(), 'igor-inspect-main-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('runInspect / main', () => {
  it('prints a v0x02 report through the given io', async () => {
    const path = join(dir, 'v2.checkpoint')
    const bytes = new Uint8Array(57)
    bytes[0] = 2
    writeFileSync(path, bytes)
    const c = capture()
    expect(await runInspect({ checkpointPath: path }, c.io)).toBe(0)
    expect(c.out()).toContain('Version:          2 (0x02)\n')
    expect(c.out()).toContain('State Size:       0 bytes\n')
    expect(c.err()).toBe('')
  })

  it('turns a bad file into one stderr line and exit 1', async () => {
    const path = join(dir, 'bad.checkpoint')
    writeFileSync(path, Uint8Array.of(0xff))
    const c = capture()
    expect(await main([path, '--json'], c.io)).toBe(1)
    expect(c.err()).toBe(`igor-inspect: ${path}: unsupported checkpoint version 0xff (expected 0x02, 0x03 or 0x04)\n`)
    expect(c.out()).toBe('')
  })
})
