// The author's side of the lifecycle: extend Agent, then `register(new MyAgent())`
// at the top level of the entry file, which also does
// `export * from "@igor/sdk/exports"` to emit the ABI exports (SPEC §5).
import { Decoder, Encoder } from "./encoding";

export class Agent {
  /**
   * Called once, on the agent's first start (never on restart, migration or
   * replay). Keep it free of observation hostcalls (clock, rand, log, http):
   * only ticks are recorded for replay (SPEC §12).
   */
  init(): void {}

  /** One step. Return true when more work is pending (ticked again after 10 ms). */
  tick(): bool {
    return false;
  }

  /** Writes the whole state; `load` must read back exactly this. */
  save(e: Encoder): void {}

  /**
   * Restores the state from what `save` wrote (restart, migration, replay).
   * Must have no side effects. If it reads past the end or leaves bytes
   * unread, the SDK traps: the checkpoint is refused rather than guessed at.
   */
  load(d: Decoder): void {}
}

let current: Agent | null = null;

/** Makes `agent` the one the exports drive. Call once, at the top level of the entry file. */
export function register(agent: Agent): void {
  current = agent;
}

export function registered(): Agent {
  const agent = current;
  if (agent == null) {
    // No register(...) call in the entry file: fail loudly at the first export call.
    unreachable();
  }
  return changetype<Agent>(agent);
}
