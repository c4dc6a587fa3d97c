/**
 * The survival property, shared by the vitest test and the long-run script:
 * generate `runs` modules with fast-check (fixed seed), write them with
 * manifest sidecars, run them all in ONE child process (`survive.mjs`), and
 * report whether that process survived.
 */
import { spawn } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import fc from 'fast-check'
import { MANIFEST, assemble, hostileModule } from './module-gen.mjs'

const SURVIVE = fileURLToPath(new URL('./survive.mjs', import.meta.url))

export async function runSurvivalProperty({ seed, runs, timeoutMs = 600_000 }) {
  const dir = await mkdtemp(join(tmpdir(), 'igor-fuzz-'))
  try {
    const samples = fc.sample(hostileModule, { seed, numRuns: runs })
    let written = 0
    for (const [i, sample] of samples.entries()) {
      let bytes
      try {
        bytes = await assemble(sample)
      } catch {
        continue // wabt refused the text (e.g. an odd combination): nothing to feed
      }
      const name = `m${String(i).padStart(5, '0')}`
      await writeFile(join(dir, `${name}.wasm`), bytes)
      await writeFile(join(dir, `${name}.manifest.json`), MANIFEST)
      written++
    }
    const child = spawn(process.execPath, [SURVIVE, dir, join(dir, 'data')], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d) => { stdout += d })
    child.stderr.setEncoding('utf8').on('data', (d) => { stderr += d })
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    const { code, signal } = await new Promise((resolve) => child.on('exit', (c, s) => resolve({ code: c, signal: s })))
    clearTimeout(timer)
    const last = stdout.trim().split('\n').at(-1) ?? ''
    let summary = null
    try { summary = JSON.parse(last) } catch { /* no summary: it died */ }
    return { written, code, signal, summary, stderr: stderr.slice(-4000) }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}
