// SPEC §11 containment with the clear written after the reply (issue 21 item 6):
// a worker's late clear never lands in a slot the node has since given to
// another agent, or written a newer mark into.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Worker } from 'node:worker_threads'
import { afterEach, beforeEach, expect, it } from 'vitest'
import { markStart } from '../worker/call-marks.js'
import { CallMarker, MARKER_FILE, type WorkerMarks } from './call-marker.js'

let dir: string
beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'igor-late-clear-')) })
afterEach(() => { rmSync(dir, { recursive: true, force: true }) })

const SLOT_BYTES = 136
const codeAt = (position: number): number => readFileSync(join(dir, MARKER_FILE))[position] ?? 0
const busyOf = (marks: WorkerMarks): Int32Array => new Int32Array(marks.busy)

it('the worker marks with its busy flag up, clears after, and skips (writing nothing) a call whose slot was given up', () => {
  const { marker } = CallMarker.open(dir)
  const marks = marker.inWorker('a') as WorkerMarks
  const unmark = markStart(marks, 'agent_tick', () => false)
  expect(unmark).not.toBeNull()
  expect(codeAt(marks.position)).toBe(2)
  expect(busyOf(marks)[0]).toBe(1)
  expect(marker.settled('a')).toBe(false)
  unmark?.()
  expect(codeAt(marks.position)).toBe(0)
  expect(busyOf(marks)[0]).toBe(0)
  expect(marker.settled('a')).toBe(true)
  // Cancelled (the node gave the slot up) once the flag was up: not run, not marked.
  expect(markStart(marks, 'agent_checkpoint', () => true)).toBeNull()
  expect(codeAt(marks.position)).toBe(0)
  expect(busyOf(marks)[0]).toBe(0)
  marker.close()
})

it('a slot whose worker has a clear still to write is not reused until it is written', () => {
  const { marker } = CallMarker.open(dir)
  const a = marker.inWorker('a') as WorkerMarks
  Atomics.store(busyOf(a), 0, 1) // a's reply arrived; its clear is still to come
  marker.release('a', a)
  const b = marker.inWorker('b') as WorkerMarks
  expect(b.position).not.toBe(a.position)
  Atomics.store(busyOf(a), 0, 0) // written
  const c = marker.inWorker('c') as WorkerMarks
  expect(c.position).toBe(a.position)
  marker.close()
})

it('a sandbox replaced by another of the same agent gives the slot up only with the last one', () => {
  const { marker } = CallMarker.open(dir)
  const first = marker.inWorker('a') as WorkerMarks
  const second = marker.inWorker('a') as WorkerMarks // e.g. the end of probation: the new sandbox starts before the old one stops
  expect(second.position).toBe(first.position)
  marker.release('a', first)
  marker.enter('a', 'agent_tick')
  expect(codeAt(first.position)).toBe(2) // still the agent's slot
  expect((marker.inWorker('b') as WorkerMarks).position).not.toBe(first.position)
  marker.release('a', second)
  expect(codeAt(first.position)).toBe(0)
  marker.close()
})

/** A worker thread that writes `marks`' clear (and drops its busy flag) about 3 ms from now, as a descheduled worker would; resolves once it has begun, with its exit. */
async function lateClear(marks: WorkerMarks): Promise<Promise<unknown>> {
  Atomics.store(busyOf(marks), 0, 1)
  const go = new Int32Array(new SharedArrayBuffer(4))
  const worker = new Worker(`
    const { workerData: { fd, position, busy, go } } = require('node:worker_threads')
    const { writeSync } = require('node:fs')
    const flag = new Int32Array(busy), start = new Int32Array(go)
    Atomics.store(start, 0, 1); Atomics.notify(start, 0)
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 3)
    writeSync(fd, Uint8Array.of(0), 0, 1, position)
    Atomics.store(flag, 0, 0); Atomics.notify(flag, 0)
  `, { eval: true, workerData: { fd: marks.fd, position: marks.position, busy: marks.busy, go: go.buffer } })
  const exited = new Promise((resolve) => worker.once('exit', resolve))
  while (Atomics.load(go, 0) === 0) await new Promise((resolve) => setTimeout(resolve, 1))
  return exited
}

it('the node waits for a pending late clear before it marks the same slot (loading a replacement)', async () => {
  const { marker } = CallMarker.open(dir)
  const old = marker.inWorker('a') as WorkerMarks
  const busy = busyOf(old)
  const exited = await lateClear(old)
  marker.enter('a', 'loading')
  await exited
  // Without the wait, the late clear (written after) would have erased the loading mark.
  expect(Atomics.load(busy, 0)).toBe(0)
  expect(codeAt(old.position)).toBe(1)
  marker.close()
})

it('a suspect\'s window opens only after the other agents\' workers have written their clears', async () => {
  const { marker } = CallMarker.open(dir)
  const other = marker.inWorker('other') as WorkerMarks
  const exited = await lateClear(other)
  let otherBusyInWindow = -1
  await marker.alone('suspect', () => { otherBusyInWindow = Atomics.load(busyOf(other), 0); return Promise.resolve() })
  await exited
  expect(otherBusyInWindow).toBe(0)
  marker.close()
})

it('close() lets a pending clear be written before the file is closed', async () => {
  const { marker } = CallMarker.open(dir)
  const marks = marker.inWorker('a') as WorkerMarks
  const exited = await lateClear(marks)
  marker.close()
  expect(Atomics.load(busyOf(marks), 0)).toBe(0)
  await exited
})

it('slots are a fixed size apart', () => {
  const { marker } = CallMarker.open(dir)
  const a = marker.inWorker('a') as WorkerMarks
  const b = marker.inWorker('b') as WorkerMarks
  expect(b.position - a.position).toBe(SLOT_BYTES)
  marker.close()
})
