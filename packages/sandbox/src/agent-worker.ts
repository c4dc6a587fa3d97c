/**
 * Worker-thread entry. A worker hosts one agent, or several (issue 11), each
 * in a slot of its own: its own instance, memory, WASI table, call stamps and
 * output caps (`worker/agent-runtime.ts`). Only the thread is shared, so calls
 * run one at a time; a call that must be stopped by terminating the thread is
 * handled on the node side (`sandbox/worker-host.ts`). The message union is
 * documented in `sandbox/messages.ts`.
 */
import { parentPort } from 'node:worker_threads'
import type { WorkerRequest } from './pool/messages.js'
import { AgentRuntime } from './worker/agent-runtime.js'

const port = parentPort
if (port === null) throw new Error('agent-worker must run in a worker thread')

const runtimes = new Map<number, AgentRuntime>()

port.on('message', (request: WorkerRequest | number) => {
  if (typeof request === 'number') {
    // A tick through the slot's TickWire (pool/tick-wire.ts).
    runtimes.get(request)?.handleWire(request)
    return
  }
  const slot = request.slot
  if (request.op === 'dispose') {
    // The instance and its memory become garbage; the thread stays for its other slots.
    runtimes.delete(slot)
    return
  }
  let runtime = runtimes.get(slot)
  if (runtime === undefined) {
    if (request.op !== 'init') return // a slot already disposed
    // Every message the runtime posts is built for that post alone: the slot is set on it, not copied.
    runtime = new AgentRuntime((message, transfer) => {
      (message as { slot?: number }).slot = slot
      port.postMessage(message, transfer)
    }, undefined, () => port.postMessage(slot))
    runtimes.set(slot, runtime)
  }
  runtime.handle(request)
})
