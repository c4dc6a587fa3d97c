/**
 * Control-flow errors raised inside the agent worker. They travel up through
 * the agent's own frames (an agent may even catch them with wasm exception
 * handling), so the worker also records them in `CallState` and decides the
 * outcome of a call from that record, not from what reached the top.
 */

/** The agent broke the ABI: a bad pointer or length from one of its exports (SPEC §11 containment). */
export class AbiError extends Error {
  override readonly name = 'AbiError'
}

/** WASI `proc_exit(code)`: ends the current call (SPEC §11). */
export class ProcExit extends Error {
  override readonly name = 'ProcExit'
  constructor(readonly code: number) {
    super(`agent called proc_exit(${code})`)
  }
}

/** The agent asked to wait past its call's deadline (e.g. `poll_oneoff` sleeping an hour). */
export class DeadlineExceeded extends Error {
  override readonly name = 'DeadlineExceeded'
}

/** The tick arrived after the end of the lease: refused before the agent ran (issue 12). */
export class LeaseEnded extends Error {
  override readonly name = 'LeaseEnded'
}
