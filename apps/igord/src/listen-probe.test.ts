// SPEC §14: a --listen port in use fails before any agent ticks (issue 21 item 5).
import { createServer, type AddressInfo } from 'node:net'
import { describe, expect, it } from 'vitest'
import { ListenError, probeListen } from './listen-probe.js'

describe('probeListen', () => {
  it('refuses a port in use with the one-line reason, naming the address as given', async () => {
    const holder = createServer()
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve))
    const port = (holder.address() as AddressInfo).port
    try {
      const failure = await probeListen(`/ip4/127.0.0.1/tcp/${port}`).catch((error: unknown) => error)
      expect(failure).toBeInstanceOf(ListenError)
      expect((failure as ListenError).code).toBe('LISTEN_FAILED')
      expect((failure as ListenError).message).toBe(`cannot listen on /ip4/127.0.0.1/tcp/${port}: address already in use (another igord or program holds the port; choose another with --listen)`)
    } finally {
      holder.close()
    }
  })

  it('turns port 0 into the free port it got, releases it, and keeps what follows the port', async () => {
    const probed = await probeListen('/ip4/127.0.0.1/tcp/0')
    expect(probed.host).toBe('127.0.0.1')
    expect(probed.port).toBeGreaterThan(0)
    expect(probed.listen).toBe(`/ip4/127.0.0.1/tcp/${probed.port}`)
    // Released: it can be bound again at once.
    const again = createServer()
    await new Promise<void>((resolve, reject) => { again.once('error', reject); again.listen(probed.port as number, '127.0.0.1', resolve) })
    again.close()
    const withSuffix = await probeListen('/ip4/127.0.0.1/tcp/0/ws')
    expect(withSuffix.listen).toBe(`/ip4/127.0.0.1/tcp/${withSuffix.port}/ws`)
  })

  it('leaves addresses that are not plain TCP to libp2p', async () => {
    expect(await probeListen('/dns4/localhost/tcp/0')).toEqual({ listen: '/dns4/localhost/tcp/0', host: null, port: null })
    expect(await probeListen('/ip4/127.0.0.1/tcp/99999')).toEqual({ listen: '/ip4/127.0.0.1/tcp/99999', host: null, port: null })
  })

  it('says when the address is not this machine\'s', async () => {
    const failure = await probeListen('/ip4/203.0.113.7/tcp/0').catch((error: unknown) => error)
    expect((failure as ListenError).message).toBe('cannot listen on /ip4/203.0.113.7/tcp/0: no such local address')
  })
})
