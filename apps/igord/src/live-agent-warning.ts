// SPEC §12 "Moving an agent without the network". Its own file so the inspector it formats with is not on
// igord's start path (issue 21 item 5).
import type { Checkpoint } from '@igor/checkpoint-codec'
import { formatUnixNanos } from '@igor/inspector'

/**
 * SPEC §12 "Moving an agent without the network": the one line a raw
 * checkpoint gets without `--force`. A copied checkpoint may be the state of
 * an agent another node still ticks; resuming it here would fork it.
 */
export function liveAgentWarning(checkpoint: Pick<Checkpoint, 'epoch' | 'leaseExpiry'>): string {
  const until = checkpoint.leaseExpiry === 0n ? '(none)' : formatUnixNanos(checkpoint.leaseExpiry)
  return `this checkpoint may belong to a live agent (epoch ${checkpoint.epoch.toString()}, lease until ${until}): ` +
    'export it on its node with \'igord export\', or pass --force if that node is gone for good'
}
