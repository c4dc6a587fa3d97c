// bigstate: a large state for checkpoint/migration tests. One source, several
// builds: the size comes from the build (`--use BIGSTATE_SIZE=<bytes>`), e.g.
// bigstate-1m = 1 MiB, bigstate-16m = 16 MiB. No capabilities.
//
// State (exactly BIGSTATE_SIZE bytes, little-endian):
//   0        u64 tick count
//   8 + 8k   u64 word k (k = 0, 1, …), initially (k + 1) × 0x9E3779B97F4A7C15 (mod 2^64)
// Each tick increments the count, then for j = 0..3 XORs the byte at
// 8 + ((count × 65537 + j × 4099) mod (BIGSTATE_SIZE − 8)) with ((count + j) & 0xff) | 1.
//
// The checkpoint pointer is the live state itself (no copy): a 16 MiB agent
// cannot afford a second snapshot next to the host's resume buffer within 64 MiB.
import { expectLength } from "./lib/abi";
export { malloc } from "./lib/abi";

// @ts-ignore: defined by the build; compiling without it is an error on purpose.
const SIZE: i32 = BIGSTATE_SIZE;
const GOLDEN: u64 = 0x9E3779B97F4A7C15;

let state: usize = 0;

export function agent_init(): void {
  if (SIZE < 16 || (SIZE & 7) != 0) unreachable();
  state = heap.alloc(<usize>SIZE);
  store<u64>(state, 0);
  let word: u64 = 0;
  for (let offset: usize = 8; offset < <usize>SIZE; offset += 8) {
    word += GOLDEN;
    store<u64>(state + offset, word);
  }
}

export function agent_tick(): i32 {
  const count = load<u64>(state) + 1;
  store<u64>(state, count);
  const span = <u64>(SIZE - 8);
  for (let j: u64 = 0; j < 4; j++) {
    const at = state + 8 + <usize>((count * 65537 + j * 4099) % span);
    store<u8>(at, load<u8>(at) ^ (<u8>(count + j) | 1));
  }
  return 0;
}

export function agent_checkpoint(): i32 {
  return SIZE;
}

export function agent_checkpoint_ptr(): i32 {
  return <i32>state;
}

export function agent_resume(ptr: i32, len: i32): void {
  expectLength(len, SIZE);
  memory.copy(state, <usize>ptr, <usize>SIZE);
}
