// SPEC §16 / issue 21 item 5 (restart): stored agents tick before libp2p has started, and the
// AutoPlacer listens from before the first tick (so no `request_move` is missed). Its placements
// and price-scan subscriptions go through this stand-in, which waits for the network: a placement
// asked for before the network is up starts once it is; if the network never comes up (the node is
// stopping) the placement fails with a one-line reason and the agent stays, as any failed placement.
import type { PlacementNeeds } from '@igor/migration'
import type { PlacementJson } from './control/protocol.js'
import type { NodeNetwork } from './network.js'

/** The network could not start, or the node stopped before it did. */
export class NetworkNotUpError extends Error {
  override readonly name = 'NetworkNotUpError'
  readonly code = 'NETWORK_NOT_UP'
}

export class LateNetwork {
  private resolveReady: (network: NodeNetwork) => void = () => {}
  private rejectReady: (error: Error) => void = () => {}
  /** The network's start once begun: the network, or the error it failed with (never rejects). */
  starting: Promise<NodeNetwork | Error> | null = null
  /** Resolves with the network once it is up; rejects with a `NetworkNotUpError` if it never is. */
  readonly ready: Promise<NodeNetwork>

  constructor() {
    this.ready = new Promise<NodeNetwork>((resolve, reject) => {
      this.resolveReady = resolve
      this.rejectReady = reject
    })
    this.ready.catch(() => {}) // nobody may be waiting: never an unhandled rejection
  }

  up(network: NodeNetwork): void {
    this.resolveReady(network)
  }

  failed(why: string): void {
    this.rejectReady(new NetworkNotUpError(`the network is not up: ${why}`))
  }

  /** At shutdown: a network that started (or is starting) but was never handed over as `current` is stopped. */
  async stopIfStarted(current: NodeNetwork | null): Promise<void> {
    if (this.starting === null) return
    const network = await this.starting
    if (!(network instanceof Error) && network !== current) await network.stop().catch(() => {})
  }

  /** What `startAutoPlacer` needs of the network. */
  forPlacer(): { place: (agentId: string, onLine: undefined, options: { needs: PlacementNeeds }) => Promise<PlacementJson>, onPriceScan: (listener: () => void) => () => void } {
    return {
      place: async (agentId, onLine, options) => await (await this.ready).place(agentId, onLine, options),
      onPriceScan: (listener) => {
        let stop: (() => void) | null = null
        let stopped = false
        this.ready.then((network) => { if (!stopped) stop = network.onPriceScan(listener) }, () => {})
        return () => {
          stopped = true
          stop?.()
        }
      }
    }
  }
}
