// trapper: a counter that traps on its 3rd tick. Tests that a trap halts the
// agent and keeps its last good checkpoint (SPEC §10).
// State (8 bytes): u64 tick count at offset 0.
export { malloc } from "./lib/abi";
export { agent_init, agent_checkpoint, agent_checkpoint_ptr, agent_resume } from "./lib/tick-count";
import { nextTick } from "./lib/tick-count";

export function agent_tick(): i32 {
  const count = nextTick();
  if (count == 3) unreachable();
  return 0;
}
