// pricer: reads this node's price every tick (capability `pricing`, SPEC §15)
// and logs one line:
//   price 2500
// (signed decimal microcents per second, as node_price returned it).
// Capabilities: pricing, log.
//
// State (16 bytes, little-endian):
//   0  u64 tick count
//   8  i64 the price seen by the last tick (0 before the first tick)
import { node_price } from "@igor/sdk/host";
import { expectLength } from "./lib/abi";
import { lineEmit, lineI64, lineStart, lineText } from "./lib/line";
import { SNAPSHOT, snapshotPtr } from "./lib/snapshot";
export { malloc } from "./lib/abi";

const STATE_SIZE: i32 = 16;

let ticks: u64 = 0;
let price: i64 = 0;

export function agent_init(): void {
  ticks = 0;
  price = 0;
}

export function agent_tick(): i32 {
  ticks++;
  price = node_price();
  lineStart();
  lineText("price ");
  lineI64(price);
  lineEmit();
  return 0;
}

export function agent_checkpoint(): i32 {
  store<u64>(SNAPSHOT, ticks);
  store<i64>(SNAPSHOT + 8, price);
  return STATE_SIZE;
}

export function agent_checkpoint_ptr(): i32 {
  return snapshotPtr();
}

export function agent_resume(ptr: i32, len: i32): void {
  expectLength(len, STATE_SIZE);
  ticks = load<u64>(<usize>ptr);
  price = load<i64>(<usize>ptr + 8);
}
