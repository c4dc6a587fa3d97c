// A static buffer the small agents serialize their state into. It lives for the
// whole instance, so the pointer handed out by agent_checkpoint_ptr stays valid
// (SPEC §5: the host reads it right after agent_checkpoint). Static, because the
// stub runtime never frees and a tick must not leak.
export const SNAPSHOT_CAPACITY: i32 = 64;
export const SNAPSHOT: usize = memory.data(SNAPSHOT_CAPACITY);

// Serializes a single u64 (little-endian, as all wasm stores are) and returns its size.
export function snapshotU64(value: u64): i32 {
  store<u64>(SNAPSHOT, value);
  return 8;
}

export function snapshotPtr(): i32 {
  return <i32>SNAPSHOT;
}
