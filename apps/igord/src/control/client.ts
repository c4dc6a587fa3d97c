import { request as httpRequest } from 'node:http'
import { join, resolve as resolvePath } from 'node:path'
import { formatDuration } from '../duration.js'
import { CONTROL_SOCKET, socketPathProblem } from './protocol.js'

/** The node behind a data directory is not running (or not reachable). */
export class ControlUnavailableError extends Error {
  override readonly name = 'ControlUnavailableError'
}

/** One request to the running node's control socket (SPEC §6). The body is the node's JSON, checked by callers. `timeoutMs` 0: no bound. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function controlRequest(dataDir: string, method: 'GET' | 'POST', path: string, body?: unknown, timeoutMs = 120_000, signal?: AbortSignal): Promise<{ status: number, body: any }> {
  const socketPath = join(dataDir, CONTROL_SOCKET)
  const tooLong = socketPathProblem(socketPath)
  if (tooLong !== null) throw new ControlUnavailableError(tooLong)
  const payload = body === undefined ? undefined : JSON.stringify(body)
  return new Promise((resolve, reject) => {
    const req = httpRequest({
      socketPath,
      path,
      method,
      timeout: timeoutMs,
      ...(signal !== undefined ? { signal } : {}),
      headers: payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }
    }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) })
        } catch (error) {
          reject(new ControlUnavailableError(`the node answered with something that is not JSON: ${(error as Error).message}`))
        }
      })
    })
    // SPEC §14: say plainly that the node did not answer (it may be stopped, frozen or overloaded).
    req.on('timeout', () => req.destroy(new ControlUnavailableError(`the node did not answer within ${formatDuration(timeoutMs)} (control socket ${socketPath}); it may be stopped or overloaded — try again or raise --timeout`)))
    req.on('error', (error: NodeJS.ErrnoException) => {
      if (error instanceof ControlUnavailableError) return reject(error)
      if (error.code === 'ENOENT' || error.code === 'ECONNREFUSED') {
        reject(new ControlUnavailableError(`no igord is running with data dir ${resolvePath(dataDir)} (no control socket at ${resolvePath(socketPath)})`))
      } else if (error.code === 'EACCES') {
        reject(new ControlUnavailableError(`permission denied on ${socketPath} (the control socket is owner-only)`))
      } else {
        reject(new ControlUnavailableError(`cannot reach the node at ${socketPath}: ${error.message}`))
      }
    })
    if (payload !== undefined) req.write(payload)
    req.end()
  })
}
