// SPEC §14 / issue 21 item 5: a `--listen` port in use fails before any agent ticks, without loading
// libp2p first. The address is bound once with node:net and released; libp2p binds it again once the
// agents tick. A port of 0 becomes the port the probe got, so the node's own endpoint is known to the
// egress policy (SPEC §13) before any agent runs, not only once libp2p has bound it.
import { createServer } from 'node:net'

/** The listen address could not be bound (SPEC §14: fails fast, naming the address). */
export class ListenError extends Error {
  override readonly name = 'ListenError'
  readonly code = 'LISTEN_FAILED'
}

/** The one-line reason for a failed bind, as `igord` prints it. */
export function listenFailure(listen: string, error: unknown): ListenError {
  const text = error instanceof Error ? error.message : String(error)
  const code = (error as { code?: string }).code ?? ''
  const why = code === 'EADDRINUSE' || /EADDRINUSE/.test(text)
    ? 'address already in use (another igord or program holds the port; choose another with --listen)'
    : code === 'EADDRNOTAVAIL' || /EADDRNOTAVAIL/.test(text) ? 'no such local address' : code === 'EACCES' || /EACCES/.test(text) ? 'permission denied (ports below 1024 need privileges)' : text
  return new ListenError(`cannot listen on ${listen}: ${why}`, { cause: error })
}

const TCP_LISTEN = /^\/(ip4|ip6)\/([^/]+)\/tcp\/(\d+)(\/.*)?$/

/**
 * Binds `listen` (`/ip4|ip6/<host>/tcp/<port>[/…]`) and releases it. Resolves with the address to give
 * libp2p (port 0 replaced by the port the probe got), or with `listen` unchanged when it is not a plain
 * TCP address (libp2p reports those when it binds). Rejects with a `ListenError` when the bind fails.
 */
export async function probeListen(listen: string): Promise<{ listen: string, host: string | null, port: number | null }> {
  const match = TCP_LISTEN.exec(listen)
  if (match === null) return { listen, host: null, port: null }
  const [, family, host, portText, rest] = match as unknown as [string, string, string, string, string | undefined]
  const wanted = Number(portText)
  if (!Number.isSafeInteger(wanted) || wanted > 65535) return { listen, host: null, port: null } // libp2p says what is wrong
  const server = createServer()
  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject)
    server.listen({ host, port: wanted, exclusive: true, ipv6Only: family === 'ip6' }, () => {
      const address = server.address()
      resolve(typeof address === 'object' && address !== null ? address.port : wanted)
    })
  }).catch((error: unknown) => { throw listenFailure(listen, error) })
  await new Promise<void>((resolve) => { server.close(() => { resolve() }) })
  return { listen: `/${family}/${host}/tcp/${port}${rest ?? ''}`, host, port }
}
