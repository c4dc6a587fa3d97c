import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type AgentStarted, MIGRATE_PROTOCOL, createIgorLibp2p, decodeAgentStarted, loadOrCreateNodeKey, openStream, readJsonMessage, writeMessage } from '@igor/migration'
type Libp2p = Awaited<ReturnType<typeof createIgorLibp2p>>

/** A bare libp2p peer in the test process, for playing a hostile or hand-made source. */
export class TestPeer {
  private constructor(readonly node: Libp2p, private readonly dir: string) {}

  static async start(): Promise<TestPeer> {
    const dir = await mkdtemp(join(tmpdir(), 'igor-peer-'))
    const node = await createIgorLibp2p({ privateKey: await loadOrCreateNodeKey(dir), listen: [] })
    return new TestPeer(node, dir)
  }

  get peerId(): string {
    return this.node.peerId.toString()
  }

  /** Sends `bytes` on a migrate stream and reads the reply (null when the stream ends without one). */
  async send(address: string, bytes: Uint8Array, options: { closeWrite?: boolean, replyTimeoutMs?: number, protocol?: string } = {}): Promise<{ reply: AgentStarted | null, error: string | null, ms: number }> {
    const started = Date.now()
    const stream = await openStream(this.node, address, options.protocol ?? MIGRATE_PROTOCOL)
    try {
      if (options.closeWrite === false) {
        void stream.sink((async function * () { yield bytes; await new Promise(() => {}) })()).catch(() => undefined)
      } else {
        await writeMessage(stream, bytes, { timeoutMs: 30_000 })
      }
      const raw = await readJsonMessage(stream.source, { maxBytes: 65536, timeoutMs: options.replyTimeoutMs ?? 30_000 })
      return { reply: decodeAgentStarted(raw), error: null, ms: Date.now() - started }
    } catch (error) {
      return { reply: null, error: (error as Error).message, ms: Date.now() - started }
    } finally {
      try { stream.abort(new Error('done')) } catch { /* closed */ }
    }
  }

  /**
   * Opens `protocol` at `address`, writes `bytes` and returns everything the
   * node sent until it closed the stream (SPEC §15 price answers are checked
   * byte for byte); `error` when the stream failed instead.
   */
  async ask(address: string, protocol: string, bytes: Uint8Array, timeoutMs = 30_000): Promise<{ text: string, error: string | null }> {
    const stream = await openStream(this.node, address, protocol)
    const timer = setTimeout(() => { try { stream.abort(new Error('no answer in time')) } catch { /* closed */ } }, timeoutMs)
    let text = ''
    try {
      void stream.sink([bytes]).catch(() => undefined)
      const decoder = new TextDecoder()
      for await (const chunk of stream.source) text += decoder.decode(chunk.subarray(), { stream: true })
      return { text, error: null }
    } catch (error) {
      return { text, error: (error as Error).message }
    } finally {
      clearTimeout(timer)
      try { stream.abort(new Error('done')) } catch { /* closed */ }
    }
  }

  async stop(): Promise<void> {
    await this.node.stop()
    await rm(this.dir, { recursive: true, force: true })
  }
}
