// survivor: the demo agent. Every tick it reads the clock, folds fresh random
// bytes into its luck word and logs one line:
//   survivor tick 12 alive 11.0s luck 0x1f2e3d4c5b6a7988
// Capabilities: clock, rand, log.
//
// State (32 bytes, little-endian):
//   0  u64 tick count
//   8  i64 birth time (Unix ns, set by agent_init from clock_now)
//  16  i64 last tick time (Unix ns)
//  24  u64 luck = rotl(luck, 7) ^ (8 random bytes read as u64 LE), once per tick
import { expectLength } from "./lib/abi";
import { clock_now, rand_bytes } from "@igor/sdk/host";
import { lineEmit, lineHex64, lineSeconds1, lineStart, lineText, lineU64 } from "./lib/line";
import { SNAPSHOT, snapshotPtr } from "./lib/snapshot";
export { malloc } from "./lib/abi";

const STATE_SIZE: i32 = 32;
const RAND: usize = memory.data(8);

let ticks: u64 = 0;
let birth: i64 = 0;
let lastTick: i64 = 0;
let luck: u64 = 0;

export function agent_init(): void {
  ticks = 0;
  birth = clock_now();
  lastTick = birth;
  luck = 0;
}

export function agent_tick(): i32 {
  ticks++;
  lastTick = clock_now();
  // A failed rand_bytes leaves the luck as it was rather than killing the agent.
  if (rand_bytes(RAND, 8) == 0) {
    luck = rotl<u64>(luck, 7) ^ load<u64>(RAND);
  }
  lineStart();
  lineText("survivor tick ");
  lineU64(ticks);
  lineText(" alive ");
  lineSeconds1(lastTick - birth);
  lineText("s luck 0x");
  lineHex64(luck);
  lineEmit();
  return 0;
}

export function agent_checkpoint(): i32 {
  store<u64>(SNAPSHOT, ticks);
  store<i64>(SNAPSHOT + 8, birth);
  store<i64>(SNAPSHOT + 16, lastTick);
  store<u64>(SNAPSHOT + 24, luck);
  return STATE_SIZE;
}

export function agent_checkpoint_ptr(): i32 {
  return snapshotPtr();
}

export function agent_resume(ptr: i32, len: i32): void {
  expectLength(len, STATE_SIZE);
  const p = <usize>ptr;
  ticks = load<u64>(p);
  birth = load<i64>(p + 8);
  lastTick = load<i64>(p + 16);
  luck = load<u64>(p + 24);
}
