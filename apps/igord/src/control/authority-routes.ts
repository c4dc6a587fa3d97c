import type { NodeRuntime } from '@igor/runner'
import type { NodeNetwork } from '../network.js'
import { fenceJson } from '../fences.js'
import { agentStatusJson } from './protocol.js'

/**
 * Control endpoints of issue 12: `POST /agents/<id>/retire` (`igord retire`)
 * and `POST /agents/<id>/recover` with `{"ask": [<multiaddr>…]}` (`igord recover
 * --ask`), and of issue 16: `GET /fences` (`igord fences`) and `POST
 * /agents/<id>/unfence` (`igord unfence`). Returns null for any other request
 * (the daemon's table answers it).
 */
export async function authorityRoute(
  method: string,
  path: string,
  body: unknown,
  runtime: NodeRuntime | null,
  network: NodeNetwork | null
): Promise<{ status: number, body: unknown } | null> {
  // SPEC §16: `igord peers`.
  if (method === 'GET' && path === '/peers') {
    if (network === null) return { status: 503, body: { error: { code: 'STARTING', message: 'the node is still starting; try again' } } }
    return { status: 200, body: { peers: network.peers() } }
  }
  // SPEC §7 (issue 16): `igord fences` and `igord unfence <id>`.
  if (method === 'GET' && path === '/fences') {
    if (runtime === null) return { status: 503, body: { error: { code: 'STARTING', message: 'the node is still starting; try again' } } }
    return { status: 200, body: { fences: (await runtime.fences.list()).map(fenceJson) } }
  }
  const unfence = /^\/agents\/([^/]+)\/unfence$/.exec(path)
  if (method === 'POST' && unfence !== null && runtime !== null) {
    const agentId = decodeURIComponent(unfence[1] as string)
    const lifted = await runtime.fences.lift(agentId)
    return { status: 200, body: { fences: lifted.map((entry) => fenceJson({ ...entry, agentId })) } }
  }
  const match = /^\/agents\/([^/]+)\/(retire|recover)$/.exec(path)
  if (method !== 'POST' || match === null || runtime === null) return null
  const agentId = decodeURIComponent(match[1] as string)
  if (match[2] === 'retire') return { status: 200, body: { agent: agentStatusJson(await runtime.retire(agentId)) } }
  const ask = (body as { ask?: unknown } | null)?.ask
  if (ask === undefined) return null // plain `igord recover`
  if (!Array.isArray(ask) || !ask.every((a) => typeof a === 'string')) {
    return { status: 400, body: { error: { code: 'BAD_REQUEST', message: 'recover needs {"ask": ["<multiaddr>", …]}' } } }
  }
  if (network === null) return { status: 503, body: { error: { code: 'NO_NETWORK', message: 'the node has no network yet' } } }
  const outcome = await network.recoverAsking(agentId, ask)
  return { status: 200, body: { action: outcome.action, ...(outcome.peerId !== undefined ? { peer: outcome.peerId } : {}), agent: outcome.agent } }
}
