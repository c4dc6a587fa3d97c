import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:http'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ControlUnavailableError } from './control/client.js'
import { CONTROL_SOCKET } from './control/protocol.js'
import { formatBytes, renderProgress, renderSummary, runMigrate } from './migrate-client.js'

const MiB = 1024 * 1024
let dir: string
let server: Server | null = null

beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'igord-migrate-')) })
afterEach(async () => {
  if (server !== null) {
    server.closeAllConnections()
    await new Promise((resolve) => server!.close(resolve))
    server = null
  }
  await rm(dir, { recursive: true, force: true })
})

/** A stand-in node on the control socket: answers the hand-off after `polls` progress requests. */
async function fakeNode(options: { total: number, polls: number, freezeAfterPolls?: number }): Promise<{ polled: () => number }> {
  let polls = 0
  let pending: ServerResponse | null = null
  const result = { agentId: 'big', target: '12D3KooWTarget', majorVersion: '1', leaseGeneration: '0', bytes: options.total, ms: 1500 }
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume()
    const json = (status: number, body: unknown): void => { res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body)) }
    if (req.url === '/healthz') return json(200, { status: 'ok' })
    if (req.method === 'POST' && req.url === '/agents/big/migrate') { pending = res; return }
    if (req.url === '/migrations/big') {
      polls++
      if (options.freezeAfterPolls !== undefined && polls > options.freezeAfterPolls) return // never answers
      json(200, { agentId: 'big', total: options.total, sent: Math.min(options.total, polls * MiB), ms: polls * 250 })
      if (polls >= options.polls && pending !== null) {
        pending.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(result))
      }
      return
    }
    json(404, { error: { code: 'NOT_FOUND', message: 'no' } })
  })
  await new Promise<void>((resolve) => server!.listen(join(dir, CONTROL_SOCKET), resolve))
  return { polled: () => polls }
}

function capture(): { io: { stdout: (t: string) => void, stderr: (t: string) => void }, out: () => string, err: () => string } {
  let out = ''
  let err = ''
  return { io: { stdout: (t) => { out += t }, stderr: (t) => { err += t } }, out: () => out, err: () => err }
}

describe('igord migrate progress (issue 11)', () => {
  it('shows bytes sent of total and the rate on a terminal for a package over 1 MiB, then one summary line', async () => {
    await fakeNode({ total: 4 * MiB, polls: 3 })
    const { io, out, err } = capture()
    const code = await runMigrate({ dataDir: dir, agentId: 'big', to: '/ip4/127.0.0.1/tcp/1/p2p/12D3KooWTarget', timeoutMs: 5000 }, io, true)
    expect(code).toBe(0)
    expect(err()).toContain('\r\x1b[Kmigrating big: 1.0 MiB of 4.0 MiB (25%), 4.0 MiB/s')
    expect(err()).toContain('migrating big: 2.0 MiB of 4.0 MiB (50%)')
    expect(err().endsWith('\r\x1b[K')).toBe(true) // the progress line is cleared before the summary
    expect(out()).toBe('migrated big to 12D3KooWTarget: now at epoch (1,0); 4.0 MiB in 1500 ms (2.7 MiB/s)\n')
  })

  it('prints only the summary when not on a terminal', async () => {
    await fakeNode({ total: 4 * MiB, polls: 2 })
    const plain = capture()
    expect(await runMigrate({ dataDir: dir, agentId: 'big', to: '/x', timeoutMs: 5000 }, plain.io, false)).toBe(0)
    expect(plain.err()).toBe('')
    expect(plain.out()).toMatch(/^migrated big to 12D3KooWTarget: now at epoch \(1,0\); 4\.0 MiB in 1500 ms/)
  })

  it('says plainly when the node stops answering during the hand-off', async () => {
    const node = await fakeNode({ total: 4 * MiB, polls: 100, freezeAfterPolls: 1 })
    const { io } = capture()
    const failure = runMigrate({ dataDir: dir, agentId: 'big', to: '/x', timeoutMs: 300 }, io, false)
    await expect(failure).rejects.toBeInstanceOf(ControlUnavailableError)
    await expect(failure).rejects.toThrow(/did not answer within 300ms .*stopped answering during the hand-off of big, which may still finish/)
    expect(node.polled()).toBeGreaterThanOrEqual(2)
  })

  it('renders sizes and rates', () => {
    expect(formatBytes(512)).toBe('512 B')
    expect(formatBytes(1536)).toBe('1.5 KiB')
    expect(renderProgress('a', 8 * MiB, 16 * MiB, 2000)).toBe('migrating a: 8.0 MiB of 16.0 MiB (50%), 4.0 MiB/s')
    expect(renderSummary({ agentId: 'a', target: 'P', majorVersion: '2', leaseGeneration: '0' })).toBe('migrated a to P: now at epoch (2,0)')
  })
})
