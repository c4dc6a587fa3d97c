/**
 * Worker-thread entry: one agent instance per worker (SPEC §5 isolation), so a
 * runaway call can be stopped by terminating the worker without touching the
 * node or any other agent. The work is done by `worker/agent-runtime.ts`; the
 * message union is documented in `sandbox/messages.ts`.
 */
import { parentPort } from 'node:worker_threads'
import type { WorkerRequest } from './sandbox/messages.js'
import { AgentRuntime } from './worker/agent-runtime.js'

const port = parentPort
if (port === null) throw new Error('agent-worker must run in a worker thread')

const runtime = new AgentRuntime((message, transfer) => port.postMessage(message, transfer))
port.on('message', (request: WorkerRequest) => runtime.handle(request))
