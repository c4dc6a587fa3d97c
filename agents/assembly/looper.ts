// looper: a counter whose 3rd tick never returns. Tests the node's tick timeout
// (SPEC §5 limits). State (8 bytes): u64 tick count at offset 0.
import { expectLength } from "./lib/abi";
import { snapshotPtr, snapshotU64 } from "./lib/snapshot";
export { malloc } from "./lib/abi";

let count: u64 = 0;
let spins: u64 = 0;
const SPIN_CELL: usize = memory.data(8);

export function agent_init(): void {
  count = 0;
}

export function agent_tick(): i32 {
  count++;
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

export function agent_checkpoint(): i32 {
  return snapshotU64(count);
}

export function agent_checkpoint_ptr(): i32 {
  return snapshotPtr();
}

export function agent_resume(ptr: i32, len: i32): void {
  expectLength(len, 8);
  count = load<u64>(<usize>ptr);
}
