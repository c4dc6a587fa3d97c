// trapper: a counter that traps on its 3rd tick. Tests that a trap halts the
// agent and keeps its last good checkpoint (SPEC §10).
// State (8 bytes): u64 tick count at offset 0.
import { expectLength } from "./lib/abi";
import { snapshotPtr, snapshotU64 } from "./lib/snapshot";
export { malloc } from "./lib/abi";

let count: u64 = 0;

export function agent_init(): void {
  count = 0;
}

export function agent_tick(): i32 {
  count++;
  if (count == 3) unreachable();
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
