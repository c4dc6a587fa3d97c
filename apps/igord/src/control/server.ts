import { chmod, unlink } from 'node:fs/promises'
import { createServer, request as httpRequest } from 'node:http'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'

/**
 * A reply is JSON, unless `contentType` is given: then `body` is that text as is (`GET /metrics`).
 * `after` runs once the reply has been handed to the socket (`igord drain`: then the node stops).
 */
export type ControlHandler = (method: string, path: string, body: unknown) => Promise<{ status: number, body: unknown, contentType?: string, after?: () => void }>

const MAX_BODY = 64 * 1024

/** Thrown when the data directory already belongs to a running node. */
export class NodeAlreadyRunningError extends Error {
  override readonly name = 'NodeAlreadyRunningError'
}

async function socketAnswers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = httpRequest({ socketPath: path, path: '/status', method: 'GET', timeout: 2000 }, (res) => {
      res.resume()
      resolve(true)
    })
    req.on('error', () => resolve(false))
    req.on('timeout', () => { req.destroy(); resolve(true) })
    req.end()
  })
}

function listen(server: Server, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => { server.off('listening', onListening); reject(error) }
    const onListening = (): void => { server.off('error', onError); resolve() }
    server.once('error', onError)
    server.once('listening', onListening)
    server.listen(path)
  })
}

/**
 * JSON over HTTP on a Unix socket in the data directory, owner-only (SPEC §6).
 *
 * Binding the socket doubles as the data directory's lock: a second node on
 * the same directory finds a live socket and refuses to start, because two
 * nodes over one set of checkpoints would tick the same agents.
 */
export class ControlServer {
  private constructor(private readonly server: Server, readonly path: string) {}

  static async open(path: string, handler: ControlHandler): Promise<ControlServer> {
    const server = createServer((req, res) => { void serve(handler, req, res) })
    try {
      await listen(server, path)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error
      if (await socketAnswers(path)) {
        throw new NodeAlreadyRunningError(`another igord is already running with this data directory (control socket ${path})`)
      }
      await unlink(path) // stale socket of a node that died
      await listen(server, path)
    }
    try {
      await chmod(path, 0o600)
    } catch (error) {
      // Never leave a bound socket behind a failed start (no half-alive node).
      await new Promise<void>((resolve) => server.close(() => resolve()))
      throw error
    }
    return new ControlServer(server, path)
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve())
      this.server.closeAllConnections()
    })
    await unlink(this.path).catch(() => undefined)
  }
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    size += (chunk as Buffer).byteLength
    if (size > MAX_BODY) throw new Error('request body too large')
    chunks.push(chunk as Buffer)
  }
  if (size === 0) return null
  return JSON.parse(Buffer.concat(chunks).toString('utf8'))
}

async function serve(handler: ControlHandler, req: IncomingMessage, res: ServerResponse): Promise<void> {
  let status = 500
  let body: unknown
  let contentType: string | undefined
  let after: (() => void) | undefined
  try {
    const parsed = await readBody(req)
    const url = new URL(req.url ?? '/', 'http://igord')
    ;({ status, body, contentType, after } = await handler(req.method ?? 'GET', url.pathname, parsed))
  } catch (error) {
    status = 400
    body = { error: { code: 'BAD_REQUEST', message: (error as Error).message } }
  }
  const text = contentType !== undefined && typeof body === 'string' ? body : JSON.stringify(body)
  res.writeHead(status, { 'content-type': contentType ?? 'application/json', 'content-length': Buffer.byteLength(text) })
  res.end(text, () => { try { after?.() } catch { /* the hook's trouble is not the reply's */ } })
}
