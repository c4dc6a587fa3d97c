import type { Uint8ArrayList } from 'uint8arraylist'
import { MigrationError } from '../errors.js'
import type { MemoryLedger } from '../wire/decode-limits.js'

/**
 * Node-wide limits on what arriving hand-offs may take (issue 8 point 6,
 * SPEC §7 target 1 and "What a peer can and cannot do"): however many peers
 * send at once, the target holds at most `maxConcurrent` transfers and
 * `maxBufferedBytes` of memory for them, each at most `maxAdmissionBytes`,
 * and one peer gets at most `maxPerPeerPerMinute` transfers a minute.
 * Memory is what the decoder keeps (decoded fields, replay entries with their
 * overhead), charged as it is made, not the bytes received.
 */
export interface InboundLimits {
  readonly maxConcurrent: number
  readonly maxBufferedBytes: number
  readonly maxAdmissionBytes: number
  readonly maxPerPeerPerMinute: number
}

export const DEFAULT_INBOUND_LIMITS: InboundLimits = {
  maxConcurrent: 4,
  // One largest admission plus room for small ones beside it.
  maxBufferedBytes: 256 * 1024 * 1024,
  // A largest transfer (192 MiB of base64) decodes to at most 144 MiB, plus its largest field (at most a
  // 64 MiB binary or state) held twice while its pieces are joined, plus 256 bytes per replay entry: ≤ 233 MiB.
  maxAdmissionBytes: 240 * 1024 * 1024,
  maxPerPeerPerMinute: 30
}

const MINUTE_MS = 60_000

/** One admitted transfer: its bytes are counted against the node-wide budget until `release`. */
export interface InboundTicket {
  /** The stream's source, counting every chunk; over the node-wide budget it throws `TARGET_BUSY`. */
  meter<T extends Uint8ArrayList | Uint8Array>(source: AsyncIterable<T>): AsyncIterable<T>
  /**
   * Memory the admission's decoder keeps (SPEC §7): over `maxAdmissionBytes` it throws
   * `TRANSFER_TOO_LARGE`, over the node-wide `maxBufferedBytes` `TARGET_BUSY`.
   */
  readonly ledger: MemoryLedger
  release(): void
}

export class InboundGate {
  private active = 0
  private buffered = 0
  private readonly recent = new Map<string, number[]>()

  readonly limits: InboundLimits

  /** Limits not given take their default (`DEFAULT_INBOUND_LIMITS`). */
  constructor(limits: Partial<InboundLimits> = {}, private readonly now: () => number = Date.now) {
    this.limits = { ...DEFAULT_INBOUND_LIMITS, ...limits }
  }

  /** Admits one transfer from `peer`, or refuses it (`RATE_LIMITED`, `TARGET_BUSY`) before a byte is read. */
  admit(peer: string): InboundTicket {
    const at = this.now()
    const times = (this.recent.get(peer) ?? []).filter((t) => at - t < MINUTE_MS)
    if (times.length >= this.limits.maxPerPeerPerMinute) {
      this.recent.set(peer, times)
      throw new MigrationError('RATE_LIMITED', `too many hand-offs from this peer: ${times.length} in the last minute (limit ${this.limits.maxPerPeerPerMinute})`)
    }
    times.push(at)
    this.recent.set(peer, times)
    if (this.recent.size > 1024) this.sweep(at)
    if (this.active >= this.limits.maxConcurrent) {
      throw new MigrationError('TARGET_BUSY', `this node is receiving ${this.active} hand-offs already (limit ${this.limits.maxConcurrent}); try again later`)
    }
    this.active++
    const held = { bytes: 0, released: false }
    return {
      meter: <T extends Uint8ArrayList | Uint8Array>(source: AsyncIterable<T>): AsyncIterable<T> => this.metered(source, held),
      ledger: {
        take: (bytes: number): void => this.take(held, bytes),
        give: (bytes: number): void => {
          if (held.released) return
          const freed = Math.min(bytes, held.bytes)
          held.bytes -= freed
          this.buffered -= freed
        }
      },
      release: (): void => {
        if (held.released) return
        held.released = true
        this.active--
        this.buffered -= held.bytes
        held.bytes = 0
      }
    }
  }

  private async * metered<T extends Uint8ArrayList | Uint8Array>(source: AsyncIterable<T>, held: { bytes: number, released: boolean }): AsyncIterable<T> {
    for await (const chunk of source) {
      if (held.released) return
      const size = chunk.byteLength
      if (this.buffered + size > this.limits.maxBufferedBytes) {
        throw new MigrationError('TARGET_BUSY', `this node is buffering ${this.buffered} bytes of hand-offs already (limit ${this.limits.maxBufferedBytes}); try again later`)
      }
      this.buffered += size
      held.bytes += size
      yield chunk
    }
  }

  private take(held: { bytes: number, released: boolean }, bytes: number): void {
    if (held.released) return
    if (held.bytes + bytes > this.limits.maxAdmissionBytes) {
      throw new MigrationError('TRANSFER_TOO_LARGE', `this hand-off needs more than ${this.limits.maxAdmissionBytes} bytes of memory to decode (limit per admission)`)
    }
    if (this.buffered + bytes > this.limits.maxBufferedBytes) {
      throw new MigrationError('TARGET_BUSY', `this node holds ${this.buffered} bytes for hand-offs already (limit ${this.limits.maxBufferedBytes}); try again later`)
    }
    this.buffered += bytes
    held.bytes += bytes
  }

  /** Transfers in progress and bytes held for them (tests, metrics). */
  get usage(): { transfers: number, bytes: number } {
    return { transfers: this.active, bytes: this.buffered }
  }

  private sweep(at: number): void {
    for (const [peer, times] of this.recent) {
      if (times.every((t) => at - t >= MINUTE_MS)) this.recent.delete(peer)
    }
  }
}
