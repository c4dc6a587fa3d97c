/**
 * SPEC §11 failure containment, "a call is inside from the moment the worker
 * starts it": the worker itself sets the agent's byte in the node's
 * `calls.inflight` file right before it runs a tick or checkpoint, and clears
 * it when the call ends (see `containment/call-marker.ts`). A call waiting in
 * the queue of a shared worker behind another agent's is never marked, so a
 * death during that wait is not counted against it.
 */
import { writeSync } from 'node:fs'
import type { WorkerMarks } from '../containment/call-marker.js'

const none = (): void => undefined
/** One view per flags buffer: the marks arrive once and serve every later call. */
const views = new WeakMap<SharedArrayBuffer, Int32Array>()
/** The one-byte buffers written (codes are small), made once: a mark allocates nothing. */
const BYTES = Array.from({ length: 8 }, (_, code) => Uint8Array.of(code))

/** Marks the call; returns what clears the mark. Writes nothing once the marker is silenced (shutdown). */
export function markStart(marks: WorkerMarks | undefined, call: keyof WorkerMarks['codes']): () => void {
  if (marks === undefined) return none
  let flags = views.get(marks.flags)
  if (flags === undefined) {
    flags = new Int32Array(marks.flags)
    views.set(marks.flags, flags)
  }
  if (!write(marks, flags, marks.codes[call])) return none
  // Test-only (IGOR_TEST_ABORT_IN): the process dies with the mark set, as an engine fault would take it.
  if (marks.abortIn === call) process.kill(process.pid, 'SIGKILL')
  return () => { write(marks, flags, 0) }
}

function write(marks: WorkerMarks, flags: Int32Array, code: number): boolean {
  if (Atomics.load(flags, 0) !== 0) return false
  try {
    writeSync(marks.fd, BYTES[code] ?? Uint8Array.of(code), 0, 1, marks.position)
    return true
  } catch {
    return false // evidence only, never a reason to fail the call
  }
}
