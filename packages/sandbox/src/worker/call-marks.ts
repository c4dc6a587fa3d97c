/**
 * SPEC §11 failure containment, "a call is inside from the moment the worker
 * starts it": the worker itself sets the agent's byte in the node's
 * `calls.inflight` file right before it runs a tick or checkpoint, and clears
 * it when the call ends (see `containment/call-marker.ts`). A call waiting in
 * the queue of a shared worker behind another agent's is never marked, so a
 * death during that wait is not counted against it.
 *
 * The clear is written after the reply is posted (issue 21 item 6: the node
 * no longer waits for a `write(2)` per call). The mark stays set a few µs
 * longer, which errs toward a strike (covered by the 3-consecutive-deaths
 * rule). The sandbox's busy flag (`WorkerMarks.busy`) is 1 from before the
 * mark until after the clear, so the node neither reuses the slot nor writes
 * into it while a clear is still to come.
 */
import { writeSync } from 'node:fs'
import type { WorkerMarks } from '../containment/call-marker.js'

interface Views { readonly flags: Int32Array, readonly busy: Int32Array }

const none = (): void => undefined
/** One pair of views per marks object: the marks arrive once and serve every later call. */
const views = new WeakMap<WorkerMarks, Views>()
/** The one-byte buffers written (codes are small), made once: a mark allocates nothing. */
const BYTES = Array.from({ length: 8 }, (_, code) => Uint8Array.of(code))

/**
 * Marks the call; returns what clears the mark, or null when the call must
 * not run (`cancelled()` answered true once the busy flag was up: the node
 * gave the slot up, and may reuse it). Writes nothing once the marker is
 * silenced (shutdown).
 */
export function markStart(marks: WorkerMarks | undefined, call: keyof WorkerMarks['codes'], cancelled: () => boolean): (() => void) | null {
  if (marks === undefined) return none
  let view = views.get(marks)
  if (view === undefined) {
    view = { flags: new Int32Array(marks.flags), busy: new Int32Array(marks.busy) }
    views.set(marks, view)
  }
  const { flags, busy } = view
  // Up before the cancel check (the node sets `cancelled` before it looks at this flag): one of the two sees the other.
  Atomics.store(busy, 0, 1)
  if (cancelled()) {
    done(busy)
    return null
  }
  if (!write(marks, flags, marks.codes[call])) {
    done(busy)
    return none
  }
  // Test-only (IGOR_TEST_ABORT_IN): the process dies with the mark set, as an engine fault would take it.
  if (marks.abortIn === call) process.kill(process.pid, 'SIGKILL')
  return () => {
    write(marks, flags, 0)
    done(busy)
  }
}

function done(busy: Int32Array): void {
  Atomics.store(busy, 0, 0)
  Atomics.notify(busy, 0)
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
