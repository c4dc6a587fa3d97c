// counter: the smallest agent. No imports, no capabilities.
// State (8 bytes, little-endian): u64 tick count at offset 0.
export { malloc } from "./lib/abi";
export { agent_init, agent_checkpoint, agent_checkpoint_ptr, agent_resume } from "./lib/tick-count";
import { nextTick } from "./lib/tick-count";

export function agent_tick(): i32 {
  nextTick();
  return 0;
}
