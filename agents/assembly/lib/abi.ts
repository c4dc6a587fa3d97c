// Shared pieces of the agent ABI (SPEC §5).

// The host calls malloc(len) to get a buffer for agent_resume. The stub runtime
// never frees, which is fine: resume happens once per instance.
export function malloc(size: i32): i32 {
  if (size < 0) unreachable();
  return <i32>heap.alloc(<usize>size);
}

// A checkpoint of the wrong size is not ours: trap rather than guess.
export function expectLength(len: i32, expected: i32): void {
  if (len != expected) unreachable();
}
