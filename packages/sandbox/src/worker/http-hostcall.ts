/**
 * `igor.http_request` inside the agent's worker (SPEC §13). The worker checks
 * the sizes (−2) and reads the inputs (−1 out of bounds), hands the request to
 * the node's main thread — which applies the allow-list, the output gate and
 * performs it — and blocks on `Atomics.wait` until the answer arrives. Then it
 * writes `[len u32][body]` (or the −5 size hint) into agent memory.
 *
 * The wait is not compute: `CallState.excludeWait` takes it out of the
 * charged time and pushes the call's own deadline back by as much; the node
 * forgives it in its deadline timer. The total wall time of a tick stays
 * bounded because the node bounds every request by what is left of the
 * tick's wall-time budget (see `TICK_WALL_LIMIT_MS`).
 */
import { MessageChannel, receiveMessageOnPort } from 'node:worker_threads'
import { HTTP_ERR_TIMEOUT, HTTP_ERR_TRANSPORT, checkHttpInputSizes, writeHttpResponse } from '../effects/http-abi.js'
import type { HttpCall } from '../effects/http.js'
import type { HttpAnswer, WorkerHttpCall } from '../pool/messages.js'
import { TICK_WALL_LIMIT_MS } from '../pool/messages.js'
import { monotonicNs } from './call-state.js'
import type { HostcallContext } from './hostcall-context.js'

const utf8 = new TextDecoder('utf-8', { fatal: false })

/** The node's answer comes later than this after the limit only if the main thread is wedged: give up with −4. */
const ANSWER_SLACK_MS = 2_000

/** What the runtime provides the http group: the bridge to the main thread, or null outside a tick. */
export type { HttpBridge } from './hostcall-context.js'

/** Sends `message` with its `port` transferred; the runtime's `post` function. */
export type PostHttp = (message: WorkerHttpCall) => void

/** Blocks the worker thread until the main thread answers on a fresh channel. */
export function blockingHttp(post: PostHttp, requestId: number, callIndex: number, call: HttpCall, excludeWait: (ns: bigint) => void): HttpAnswer {
  const { port1, port2 } = new MessageChannel()
  const signal = new Int32Array(new SharedArrayBuffer(4))
  const started = monotonicNs()
  try {
    post({ type: 'http', id: requestId, callIndex, call, signal: signal.buffer, port: port1 })
    Atomics.wait(signal, 0, 0, TICK_WALL_LIMIT_MS + ANSWER_SLACK_MS)
    const answer = receiveMessageOnPort(port2)?.message as HttpAnswer | undefined
    return answer ?? { ok: false, code: HTTP_ERR_TIMEOUT, maxResponseBytes: 0 }
  } finally {
    port2.close()
    excludeWait(monotonicNs() - started)
  }
}

export function httpHostcalls({ memory, http }: HostcallContext): WebAssembly.ModuleImports {
  return {
    http_request: (methodPtr: number, methodLen: number, urlPtr: number, urlLen: number, headersPtr: number, headersLen: number,
      bodyPtr: number, bodyLen: number, respPtr: number, respCap: number): number => {
      const tooLong = checkHttpInputSizes(methodLen, urlLen, headersLen, bodyLen)
      if (tooLong !== 0) return tooLong
      const method = memory.bytes(methodPtr, methodLen)
      const url = memory.bytes(urlPtr, urlLen)
      const headers = memory.bytes(headersPtr, headersLen)
      const body = memory.bytes(bodyPtr, bodyLen)
      if (method === null || url === null || headers === null || body === null) return HTTP_ERR_TRANSPORT
      const bridge = http()
      // Outside agent_tick there is no tick to bind the request to: nothing is sent.
      if (bridge === null) return HTTP_ERR_TRANSPORT
      const answer = bridge.send({ method: utf8.decode(method), url: utf8.decode(url), headers: utf8.decode(headers), body: body.slice() })
      if (!answer.ok) return answer.code
      // Memory may have been replaced by nothing in between (the agent is blocked), but re-take the view anyway.
      const all = memory.bytes(0, memory.byteLength)
      if (all === null) return HTTP_ERR_TRANSPORT
      return writeHttpResponse(all, respPtr, respCap, answer.status, answer.body, answer.maxResponseBytes)
    }
  }
}
