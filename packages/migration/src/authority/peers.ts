import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

/**
 * The node's known peers (issue 12 item 4): the `--peer` addresses it was
 * started with, plus every address it has sent a package to or asked with
 * `recover --ask`, kept in `<dataDir>/peers.json` so a restart remembers them.
 * Assisted recovery of an agent that was paused past its lease asks all of them.
 */
export class PeerBook {
  private readonly learned = new Set<string>()
  private saving: Promise<void> = Promise.resolve()

  private constructor(private readonly path: string, private readonly configured: readonly string[]) {}

  static async open(dataDir: string, configured: readonly string[] = []): Promise<PeerBook> {
    const book = new PeerBook(join(dataDir, 'peers.json'), configured)
    try {
      const json = JSON.parse(await readFile(book.path, 'utf8')) as { peers?: unknown }
      if (Array.isArray(json.peers)) for (const p of json.peers) if (typeof p === 'string') book.learned.add(p)
    } catch {
      // absent or unreadable: start from the configured peers only
    }
    return book
  }

  /** Every known address except `self`'s own (compared by the trailing /p2p/ peer id). */
  all(selfPeerId?: string): string[] {
    const out = new Set([...this.configured, ...this.learned])
    return [...out].filter((a) => selfPeerId === undefined || !a.endsWith(`/p2p/${selfPeerId}`))
  }

  /** Remembers an address (written in the background; losing it in a crash only narrows the set). */
  learn(address: string): void {
    if (this.learned.has(address) || this.configured.includes(address)) return
    this.learned.add(address)
    const text = `${JSON.stringify({ peers: [...this.learned] }, null, 2)}\n`
    this.saving = this.saving.then(async () => {
      await mkdir(join(this.path, '..'), { recursive: true })
      await writeFile(`${this.path}.tmp`, text, { mode: 0o600 })
      await rename(`${this.path}.tmp`, this.path)
    }).catch(() => undefined)
  }
}
