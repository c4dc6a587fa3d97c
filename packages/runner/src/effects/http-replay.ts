/**
 * `igor.http_request` during a replay (SPEC §12, §13 step 9): the response is
 * served from the tick's event log (`HostcallID 8`, `[status u32 LE][body]`);
 * nothing reaches the network.
 *
 * Only completed calls are recorded, so a live call that failed (−1, −3, −4,
 * −6) or did not fit (−5) left no entry. On replay: a recorded body that does
 * not fit `resp_cap` answers −5 with the size hint and stays in the log for
 * the retry, as live; a call with no HTTP entry next answers −1 and consumes
 * nothing (ours: the live code was not recorded; an agent that acted on a
 * different code diverges and the state comparison reports it).
 */
import type { ReplayFeed } from '../replay/replayer.js'
import { HTTP_ERR_TRANSPORT, HTTP_HOSTCALL_ID, checkHttpInputSizes, writeHttpResponse } from './http-abi.js'

export function replayingHttp(feed: ReplayFeed, memory: () => WebAssembly.Memory | null) {
  return (methodPtr: number, methodLen: number, urlPtr: number, urlLen: number, headersPtr: number, headersLen: number,
    bodyPtr: number, bodyLen: number, respPtr: number, respCap: number): number => {
    const tooLong = checkHttpInputSizes(methodLen, urlLen, headersLen, bodyLen)
    if (tooLong !== 0) return tooLong
    const mem = memory()
    if (mem === null) return HTTP_ERR_TRANSPORT
    const all = new Uint8Array(mem.buffer)
    const inBounds = (ptr: number, len: number): boolean => (ptr >>> 0) + (len >>> 0) <= all.length
    if (!inBounds(methodPtr, methodLen) || !inBounds(urlPtr, urlLen) || !inBounds(headersPtr, headersLen) || !inBounds(bodyPtr, bodyLen)) return HTTP_ERR_TRANSPORT
    const next = feed.peek()
    if (next === undefined || next.hostcallId !== HTTP_HOSTCALL_ID) return HTTP_ERR_TRANSPORT
    if (next.payload.length < 4) feed.failWith(`http_request payload of ${next.payload.length} bytes is shorter than its status`)
    const status = new DataView(next.payload.buffer, next.payload.byteOffset, 4).getUint32(0, true)
    const body = next.payload.subarray(4)
    const result = writeHttpResponse(all, respPtr, respCap, status, body, Number.MAX_SAFE_INTEGER)
    if (result >= 0) feed.take(HTTP_HOSTCALL_ID)
    return result
  }
}
