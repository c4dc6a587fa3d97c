// Histories for the browser tests: a real one written by igord, and ones built
// with the codec (a fork), plus `igord verify`'s own answer to compare with.
import { spawn } from 'node:child_process'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { agentPath } from '@igor/agents'
import { GENESIS_PREV_HASH, checkpointContentHash, encodeSignedCheckpoint } from '@igor/checkpoint-codec'
import { Epoch } from '@igor/epoch'
import { readHistoryDir } from '@igor/inspector'
import { AgentIdentity } from '@igor/identity'

export const IGORD = fileURLToPath(new URL('../../igord/dist/cli.js', import.meta.url))

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** `igord verify <dirs…>`: its stdout and exit code. */
export async function igordVerify(dirs: readonly string[]): Promise<{ code: number | null, stdout: string, stderr: string }> {
  const child = spawn(process.execPath, [IGORD, 'verify', ...dirs], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (c: string) => { stdout += c })
  child.stderr.setEncoding('utf8').on('data', (c: string) => { stderr += c })
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve))
  return { code, stdout, stderr }
}

/**
 * Runs the counter agent under a real igord on `dataDir` until its history
 * holds at least `atLeast` checkpoints (a short lease: renewals checkpoint too),
 * then stops it with SIGTERM. Returns the history directory.
 */
export async function igordHistory(dataDir: string, atLeast = 5): Promise<string> {
  const history = join(dataDir, 'checkpoints', 'history', 'counter')
  const child = spawn(process.execPath, [IGORD, 'run', agentPath('counter'), '--data-dir', dataDir, '--listen', '/ip4/127.0.0.1/tcp/0',
    '--lease-duration', '1s', '--lease-renewal-window', '0.9', '--lease-grace', '5s'], { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (c: string) => { stderr += c })
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()))
  try {
    for (let waited = 0; ; waited += 200) {
      // Ours (issue 21): igord appends to history segments; count the checkpoints they hold (one per tick).
      const files = await readHistoryDir(history).catch(() => [])
      if (files.filter((f) => f.bytes !== null).length >= atLeast) break
      if (child.exitCode !== null) throw new Error(`igord exited early: ${stderr}`)
      if (waited > 90_000) throw new Error(`no ${atLeast} checkpoints in ${history} after 90 s: ${stderr}`)
      await sleep(200)
    }
  } finally {
    child.kill('SIGTERM')
    await exited
  }
  return history
}

/** `igord history export counter <out> --data-dir <dataDir>`: the reference layout, one `<tick>.ckpt` per tick. Returns `out`. */
export async function igordHistoryExport(dataDir: string, out: string): Promise<string> {
  const child = spawn(process.execPath, [IGORD, 'history', 'export', 'counter', out, '--data-dir', dataDir], { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (c: string) => { stderr += c })
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve))
  if (code !== 0) throw new Error(`igord history export failed: ${stderr}`)
  return out
}

const KEY = AgentIdentity.fromSeed(new Uint8Array(32).fill(9))
const name = (tick: bigint): string => `${tick.toString().padStart(10, '0')}.ckpt`

/** Signed checkpoints at `ticks` (one epoch for all, or one each), chained from `prev`, written into `dir`. Returns their bytes. */
export async function writeChain(dir: string, ticks: readonly bigint[], epochs: Epoch | readonly Epoch[], prev: Uint8Array = GENESIS_PREV_HASH): Promise<Uint8Array[]> {
  await mkdir(dir, { recursive: true })
  const out: Uint8Array[] = []
  for (const [i, tick] of ticks.entries()) {
    const epoch = Array.isArray(epochs) ? (epochs[i] as Epoch) : (epochs as Epoch)
    const bytes = encodeSignedCheckpoint({ budget: 1_000_000n, pricePerSecond: 1000n, tickNumber: tick, wasmHash: new Uint8Array(32).fill(0xaa), epoch, leaseExpiry: 0n, state: Uint8Array.of(Number(tick), 1, 2, 3) }, prev, KEY)
    await writeFile(join(dir, name(tick)), bytes)
    prev = checkpointContentHash(bytes)
    out.push(bytes)
  }
  return out
}

export const DID = KEY.did

export { Epoch }
