// hog: grows memory by 4 MiB every tick and dirties the new pages, until
// memory.grow fails; then it traps. Its manifest sets no max_memory_bytes, so
// only the node's 64 MiB cap stops it (SPEC §5 limits).
// State (8 bytes): u64 tick count at offset 0.
//
// The pages are taken with memory.grow directly, outside the stub allocator;
// nothing reads them back, so a later malloc landing on them is harmless.
export { malloc } from "./lib/abi";
export { agent_init, agent_checkpoint, agent_checkpoint_ptr, agent_resume } from "./lib/tick-count";
import { nextTick } from "./lib/tick-count";

const PAGES_PER_TICK: i32 = 64; // 64 × 64 KiB = 4 MiB

export function agent_tick(): i32 {
  const count = nextTick();
  const before = memory.grow(PAGES_PER_TICK);
  if (before < 0) unreachable();
  // Write every byte so the engine really commits the pages.
  memory.fill(<usize>before << 16, <u8>(count | 1), <usize>PAGES_PER_TICK << 16);
  return 0;
}
