// spender: logs its remaining budget every tick ("balance <n>", n in microcents).
// Capabilities: wallet, log. State (8 bytes): u64 tick count at offset 0.
import { expectLength } from "./lib/abi";
import { wallet_balance } from "./lib/igor";
import { lineEmit, lineI64, lineStart, lineText } from "./lib/line";
import { snapshotPtr, snapshotU64 } from "./lib/snapshot";
export { malloc } from "./lib/abi";

let count: u64 = 0;

export function agent_init(): void {
  count = 0;
}

export function agent_tick(): i32 {
  count++;
  lineStart();
  lineText("balance ");
  lineI64(wallet_balance());
  lineEmit();
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
