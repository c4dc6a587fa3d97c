// SPEC §6, §14, §16: a long control request (migrate, migrate --to auto, drain) whose progress is asked for while it runs.
import { ControlUnavailableError, controlRequest } from './control/client.js'

/** One answer of the control socket (the body is the node's JSON, checked by callers). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export interface ControlReply { status: number, body: any }

export const POLL_MS = 250

export interface PollOptions {
  readonly dataDir: string
  /** Bounds each progress request's wait for the node to answer (the long request itself is not bounded here). */
  readonly timeoutMs: number
  /** The long request, already sent. */
  readonly request: Promise<ControlReply>
  /** Asked with GET every `intervalMs` while the request runs. */
  readonly path: string
  /** Every progress answer, as it comes (also one that arrives just after the request ended). */
  readonly onProgress: (reply: ControlReply) => void
  /** Said after the node's own words when it stops answering: `it stopped answering while …`. */
  readonly lost: string
  readonly intervalMs?: number
}

/**
 * Waits for `request` while asking `path` for progress every 250 ms. A node
 * that stops answering a progress request within `timeoutMs` is reported
 * plainly (`ControlUnavailableError`, with `lost`); the long request may then
 * still finish on the node. Resolves with the long request's reply.
 */
export async function pollProgress(options: PollOptions): Promise<ControlReply> {
  const { dataDir, timeoutMs, path } = options
  let done = false
  const request = options.request.finally(() => { done = true })
  const watch = (async (): Promise<void> => {
    while (!done) {
      await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? POLL_MS))
      if (done) return
      let reply: ControlReply
      try {
        reply = await controlRequest(dataDir, 'GET', path, undefined, timeoutMs)
      } catch (error) {
        if (done) return
        throw new ControlUnavailableError(`${(error as Error).message.replace(/ — try again or raise --timeout$/, '')}; ${options.lost}`)
      }
      options.onProgress(reply)
    }
  })()
  watch.catch(() => undefined) // its failure is reported through the race below
  try {
    return await Promise.race([request, watch.then(async () => request)])
  } finally {
    done = true
  }
}
