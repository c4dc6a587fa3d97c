import type { Logger, NodeRuntime } from '@igor/runner'

/**
 * SPEC §12 "Moving an agent without the network" on the control socket:
 * `POST /agents/<id>/export` (`igord export`) and `POST /import` (`igord
 * import`). The handlers load with their first request (they pull in the
 * hand-off code). Returns null for any other request.
 */
export async function offlineRoute(
  method: string,
  path: string,
  body: unknown,
  node: { runtime: NodeRuntime | null, nodeId: string | null, log: Logger, maxTransferBytes: number }
): Promise<{ status: number, body: unknown } | null> {
  if (method !== 'POST' || node.runtime === null) return null
  if (/^\/agents\/[^/]+\/export$/.test(path)) return (await import('../export.js')).exportRoute(method, path, body, node.runtime, node.nodeId, node.log)
  if (path === '/import') return (await import('../import.js')).importRoute(method, path, body, node.runtime, node.log, node.maxTransferBytes)
  return null
}
