// The SPEC §5 ABI exports, generated once for every agent. The entry file
// re-exports them: `export * from "@igor/sdk/exports"`.
import { registered } from "./agent";
import { Decoder, Encoder } from "./encoding";
import { setResumeRules } from "./effects";

// The last checkpoint stays referenced from a global, so the pointer handed
// out by agent_checkpoint_ptr stays valid (and is not collected) until the
// next agent_checkpoint.
let checkpointBytes: Uint8Array = new Uint8Array(0);
// The buffer malloc handed out for agent_resume; freed once resume copied it.
let resumeBuffer: usize = 0;

// SPEC §12 "Restore is not resume": a live start or restart calls agent_init
// and then agent_resume; a replay calls agent_resume alone. Only the first is
// a resume after a crash, where the after-a-crash rules apply.
let initCalled = false;

export function agent_init(): void {
  initCalled = true;
  registered().init();
}

export function agent_tick(): i32 {
  return registered().tick() ? 1 : 0;
}

export function agent_checkpoint(): i32 {
  const e = new Encoder(256);
  registered().save(e);
  checkpointBytes = e.finish();
  return checkpointBytes.length;
}

export function agent_checkpoint_ptr(): i32 {
  return <i32>checkpointBytes.dataStart;
}

export function agent_resume(ptr: i32, len: i32): void {
  if (len < 0) unreachable();
  const data = new Uint8Array(len);
  memory.copy(data.dataStart, <usize>ptr, <usize>len);
  if (resumeBuffer != 0 && <usize>ptr == resumeBuffer) {
    heap.free(resumeBuffer);
    resumeBuffer = 0;
  }
  const d = new Decoder(data);
  setResumeRules(initCalled);
  registered().load(d);
  setResumeRules(true);
  // A checkpoint that does not decode exactly (too short, or bytes left over)
  // is not this agent's: trap, never guess.
  if (d.failed || d.remaining != 0) unreachable();
}

// The host calls malloc(len) to get a buffer for agent_resume (SPEC §5). It is
// outside the garbage-collected heap, so nothing moves or frees it before
// agent_resume reads it.
export function malloc(size: i32): i32 {
  if (size < 0) unreachable();
  if (resumeBuffer != 0) heap.free(resumeBuffer);
  resumeBuffer = heap.alloc(<usize>max(size, 1));
  return <i32>resumeBuffer;
}
