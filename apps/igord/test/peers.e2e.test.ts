// SPEC §16 Peers: the registry fed by --peer, hand-offs and identify; `igord peers` live and offline.
import { join } from 'node:path'
import { readFile } from 'node:fs/promises'
import { agentPath } from '@igor/agents'
import { describe, expect, it } from 'vitest'
import { runCli, ticking, useNodes, waitFor } from './harness.js'
import type { Igord } from './harness.js'

const { nodes, dir } = useNodes()
const data = (name: string): string => join(dir.path, name)
const PRICE = ['--price-per-second', '90000']

interface PeerJson { peerId: string, addresses: string[], price: string | null, capabilities: string[] | null, freeSlots: number | null, lastSeen: number, failures: number }

async function peersOf(node: Igord | string): Promise<PeerJson[]> {
  const dataDir = typeof node === 'string' ? node : node.dataDir
  const result = await runCli(['peers', '--json', '--data-dir', dataDir])
  expect(result.stderr).toBe('')
  expect(result.code).toBe(0)
  return (JSON.parse(result.stdout) as { peers: PeerJson[] }).peers
}

const peerIdOf = (node: Igord): string => node.address().split('/p2p/')[1] as string

describe('the peer registry (SPEC §16)', () => {
  it('--peer B: B is listed by `igord peers --json`, seen through identify and priced by the scan; the list survives a stop and reads offline', async () => {
    const B = await nodes.start(data('B')).ready()
    const A = await nodes.start(data('A'), ['--peer', B.address()]).ready()
    const b = peerIdOf(B)
    // A dials its known peers at start (identify marks B as seen) and scans their prices (SPEC §16: the first scan at start).
    const seen = await waitFor('B seen and priced by A', async () => (await peersOf(A)).find((p) => p.peerId === b && p.lastSeen > 0 && p.price !== null))
    expect(seen).toMatchObject({ peerId: b, addresses: [B.address()], price: '1000', freeSlots: null, failures: 0 })
    expect(seen.capabilities).toContain('clock')
    const text = await runCli(['peers', '--data-dir', A.dataDir])
    expect(text.code).toBe(0)
    expect(text.stdout).toMatch(/^PEER +PRICE\/S +CAPABILITIES +FREE +LAST SEEN +FAILURES +ADDRESSES\n/)
    expect(text.stdout).toContain(B.address())
    expect((await A.stop()).code).toBe(0)
    const offline = await peersOf(A.dataDir)
    expect(offline.map((p) => p.peerId)).toEqual([b])
    const file = JSON.parse(await readFile(join(A.dataDir, 'peers.json'), 'utf8')) as { version: number }
    expect(file.version).toBe(2)
  })

  it('a bad --peer is refused at start with a one-line reason', async () => {
    const result = await runCli(['--data-dir', data('A'), '--listen', '/ip4/127.0.0.1/tcp/0', '--peer', '/ip4/127.0.0.1/tcp/1'])
    expect(result.code).not.toBe(0)
    expect(result.stderr + result.stdout).toMatch(/must be a multiaddr ending with \/p2p\/<peerId>/)
  })

  it('after a hand-off A→C, C is on A and A is on C; C restarted on a new port is found again by A through identify', async () => {
    const A = await nodes.start(data('A'), [...PRICE, '--run-agent', agentPath('survivor')]).ready()
    let C = await nodes.start(data('C'), PRICE).ready()
    const a = peerIdOf(A)
    const c = peerIdOf(C)
    await ticking(A, 'survivor', 1n)
    const moved = await runCli(['migrate', 'survivor', '--to', C.address(), '--data-dir', A.dataDir])
    expect(moved.code).toBe(0)
    const onA = (await peersOf(A)).find((p) => p.peerId === c)
    expect(onA).toMatchObject({ addresses: [C.address()], failures: 0 })
    expect(onA!.lastSeen).toBeGreaterThan(0)
    // C learns A from the arrival; its address from identify on the same connection.
    const onC = await waitFor('A on C with its address', async () => (await peersOf(C)).find((p) => p.peerId === a && p.addresses.includes(A.address())))
    expect(onC.lastSeen).toBeGreaterThan(0)

    const oldAddress = C.address()
    expect((await C.stop()).code).toBe(0)
    C = await nodes.start(data('C'), PRICE).ready() // a new random port, same peer id
    expect(peerIdOf(C)).toBe(c)
    expect(C.address()).not.toBe(oldAddress)
    // C dials the peers it knows at start; A's identify on that connection gives A C's new address.
    const found = await waitFor('C\'s new address on A', async () => {
      const entry = (await peersOf(A)).find((p) => p.peerId === c)
      return entry?.addresses[0] === C.address() ? entry : null
    })
    expect(found.addresses).toContain(oldAddress)
    await ticking(C, 'survivor', 1n)
  })

  it('an ambiguous hand-off to a target that comes back on a new port heals with no operator: recovery asks the registry\'s current address', async () => {
    let B = await nodes.start(data('B')).ready()
    const A = await nodes.start(data('A'), ['--run-agent', agentPath('bigstate-16m'), '--agent-id', 'big', '--transfer-timeout', '5s']).ready()
    await ticking(A, 'big')
    const oldAddress = B.address()
    const pending = runCli(['migrate', 'big', '--to', oldAddress, '--data-dir', A.dataDir])
    await A.waitForLog('package on its way', (l) => l.msg === 'hand-off: sending package')
    await B.kill()
    const result = await pending
    const outcome = (await A.agent('big'))!
    if (result.code === 0) {
      expect(outcome.state).toBe('RETIRED') // the package and the reply made it before the kill: nothing to heal
      return
    }
    expect(outcome.state).toBe('RECOVERY_REQUIRED')
    // B comes back on another port and knows A (--peer): its dial at start lets A's identify learn the new address.
    B = await nodes.start(data('B'), ['--peer', A.address()]).ready()
    expect(B.address()).not.toBe(oldAddress)
    const resolved = await A.waitForLog('assisted recovery', (l) => /^assisted recovery: (no peer holds|a peer holds)/.test(l.msg), 90_000)
    const owners = [await A.agent('big'), await B.agent('big')].filter((x) => x?.state === 'ACTIVE_OWNER')
    expect(owners).toHaveLength(1)
    expect(resolved.msg).toMatch(/no peer holds|a peer holds/)
    // The registry holds B's new address first (identify on B's connection; an answer over the old address does not undo that).
    await waitFor('B\'s new address first on A', async () => (await peersOf(A)).find((p) => p.peerId === peerIdOf(B) && p.addresses[0] === B.address()))
  })

  it('--mdns: two nodes on one host find each other with no --peer (needs multicast on the loopback host)', async () => {
    const A = await nodes.start(data('A'), ['--mdns']).ready()
    const B = await nodes.start(data('B'), ['--mdns']).ready()
    await waitFor('B found by A', async () => (await peersOf(A)).find((p) => p.peerId === peerIdOf(B) && p.addresses.includes(B.address())), 60_000)
    await waitFor('A found by B', async () => (await peersOf(B)).find((p) => p.peerId === peerIdOf(A) && p.addresses.includes(A.address())), 60_000)
  })
})
