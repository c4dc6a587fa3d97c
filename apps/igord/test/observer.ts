import type { AgentStatusJson } from '../src/control/protocol.js'
import type { Igord } from './harness.js'

export interface Round { at: number, nodes: Array<{ name: string, agents: AgentStatusJson[] } | null> }

const ticking = (a: AgentStatusJson): boolean => a.state === 'ACTIVE_OWNER' && a.halted === null

/**
 * The single-instance observer: polls `status` on every node, concurrently,
 * round after round, and records a violation when two nodes report the same
 * agent as ticking in two consecutive rounds.
 *
 * Why two rounds: one round's answers are sampled at slightly different
 * moments, so a hand-off between two samples can look like two owners. A
 * legitimate hand-off cannot span two rounds — the source stops being
 * ACTIVE_OWNER before the target becomes it — so two rounds in a row prove
 * two live copies.
 */
export class SingleInstanceObserver {
  readonly rounds: Round[] = []
  readonly violations: string[] = []
  private running = true
  private readonly done: Promise<void>
  private previous = new Map<string, string[]>()

  constructor(private readonly nodes: Record<string, Igord>) {
    this.done = this.loop()
  }

  private async loop(): Promise<void> {
    while (this.running) {
      const names = Object.keys(this.nodes)
      const answers = await Promise.all(names.map(async (name) => {
        try {
          return { name, agents: (await this.nodes[name]!.status()).agents }
        } catch {
          return null // a node that is down or restarting owns nothing
        }
      }))
      this.rounds.push({ at: Date.now(), nodes: answers })
      const owners = new Map<string, string[]>()
      for (const answer of answers) {
        for (const agent of answer?.agents ?? []) {
          if (ticking(agent)) owners.set(agent.agentId, [...(owners.get(agent.agentId) ?? []), answer!.name])
        }
      }
      for (const [agentId, list] of owners) {
        const before = this.previous.get(agentId) ?? []
        const both = list.filter((n) => before.includes(n))
        if (both.length > 1) this.violations.push(`${agentId} ticking on ${both.join(' and ')} in two consecutive rounds`)
      }
      this.previous = owners
      await new Promise((resolve) => setTimeout(resolve, 40))
    }
  }

  /** Nodes on which `agentId` was ticking in the latest round. */
  owners(agentId: string): string[] {
    const last = this.rounds.at(-1)
    return (last?.nodes ?? []).filter((n) => n?.agents.some((a) => a.agentId === agentId && ticking(a))).map((n) => n!.name)
  }

  async stop(): Promise<void> {
    this.running = false
    await this.done
  }
}

/**
 * Ground truth from the logs: every `survivor tick N` line of every node.
 * With no crash in between, each tick number must appear exactly once across
 * all nodes, in order, and the owner must change only at hand-offs.
 */
export function survivorTicks(nodes: Record<string, Igord>, agentId = 'survivor'): Array<{ node: string, tick: bigint, time: string }> {
  const ticks: Array<{ node: string, tick: bigint, time: string }> = []
  for (const [name, node] of Object.entries(nodes)) {
    for (const line of node.logs) {
      const match = /^survivor tick (\d+) /.exec(line.msg)
      if (match !== null && line.agentId === agentId) ticks.push({ node: name, tick: BigInt(match[1] as string), time: String(line.time) })
    }
  }
  return ticks.sort((a, b) => (a.tick < b.tick ? -1 : a.tick > b.tick ? 1 : 0))
}
