// The whole state of the small agents (counter, looper, trapper, hog, spender):
// a u64 tick count, 8 bytes little-endian, wrapping at 2^64. The ABI functions
// that initialise, checkpoint and resume it live here once; each agent
// re-exports them and writes only its own agent_tick.
import { expectLength } from "./abi";
import { snapshotPtr, snapshotU64 } from "./snapshot";

let count: u64 = 0;

/** Counts one tick and returns the new count. */
export function nextTick(): u64 {
  count++;
  return count;
}

export function agent_init(): void {
  count = 0;
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
