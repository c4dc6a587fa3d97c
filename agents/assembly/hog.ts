// hog: grows memory by 4 MiB every tick and dirties the new pages, until
// memory.grow fails; then it traps. Its manifest sets no max_memory_bytes, so
// only the node's 64 MiB cap stops it (SPEC §5 limits).
// State (8 bytes): u64 tick count at offset 0.
//
// The pages are taken with memory.grow directly, outside the stub allocator;
// nothing reads them back, so a later malloc landing on them is harmless.
import { expectLength } from "./lib/abi";
import { snapshotPtr, snapshotU64 } from "./lib/snapshot";
export { malloc } from "./lib/abi";

const PAGES_PER_TICK: i32 = 64; // 64 × 64 KiB = 4 MiB

let count: u64 = 0;

export function agent_init(): void {
  count = 0;
}

export function agent_tick(): i32 {
  count++;
  const before = memory.grow(PAGES_PER_TICK);
  if (before < 0) unreachable();
  // Write every byte so the engine really commits the pages.
  memory.fill(<usize>before << 16, <u8>(count | 1), <usize>PAGES_PER_TICK << 16);
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
