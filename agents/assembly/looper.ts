// looper: a counter whose 3rd tick never returns. Tests the node's tick timeout
// (SPEC §5 limits). State (8 bytes): u64 tick count at offset 0.
export { malloc } from "./lib/abi";
export { agent_init, agent_checkpoint, agent_checkpoint_ptr, agent_resume } from "./lib/tick-count";
import { nextTick } from "./lib/tick-count";

let spins: u64 = 0;
const SPIN_CELL: usize = memory.data(8);

export function agent_tick(): i32 {
  const count = nextTick();
  if (count == 3) {
    // The memory store is an observable side effect each round, so no
    // optimizer may drop the loop.
    while (true) {
      spins++;
      store<u64>(SPIN_CELL, spins);
    }
  }
  return 0;
}
