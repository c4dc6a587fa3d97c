/**
 * The worker's side of observations (SPEC §12), kept apart from the worker's
 * plumbing: which hostcalls to wrap, the tick's recorder or replay feed, and
 * the states before and after the last tick.
 *
 * - `record` (every live agent): observation hostcalls inside `agent_tick`
 *   are appended to the tick's log, and the state after each tick is kept, so
 *   the last tick's `{ pre, post, log }` can be handed out for a replay or a
 *   migration package without another call into the agent.
 * - `record` + `deterministicSeed` (`igord simulate --deterministic`).
 * - `replay`: recorded values served in order; `agent_init` is not run.
 */
import { TickRecorder } from './event-log.js'
import {
  DeterministicSources,
  type HostFunctions,
  type MemoryRef,
  deterministicIgor,
  deterministicWasi,
  recordingIgor,
  recordingWasi,
  replayingIgor,
  replayingWasi
} from './hostcalls.js'
import { countEntries } from './event-log.js'
import { GoPcg } from './pcg.js'
import { ReplayAbort, ReplayFeed } from './replayer.js'

export type ObserveSetup =
  | { readonly mode: 'record', readonly deterministicSeed?: bigint }
  | { readonly mode: 'replay', readonly log: Uint8Array }

/** What a tick reply carries about the tick's observations. */
export interface TickObservations {
  /** Entries recorded (0 for a tick that observed nothing, or whose log was too large to keep). */
  readonly observations: number
  /** Highest hostcall id used (ids above 9 cannot be replayed by the reference). */
  readonly highestId: number
  /** False when the tick's log exceeded the cap and was not kept. */
  readonly recorded: boolean
  /** Replay only: why the replay failed, or null when every entry fit and none was left over. */
  readonly replayFailure?: string | null
}

/** The last tick, as kept by the worker: states before and after it, and its packed log. */
export interface LastTickRecord {
  readonly pre: Uint8Array
  readonly post: Uint8Array
  readonly log: Uint8Array
}

const IGOR = 'igor'
const WASI = 'wasi_snapshot_preview1'

export class WorkerObservation {
  private readonly recorder: TickRecorder | null
  private readonly feed: ReplayFeed | null
  private readonly sources: DeterministicSources | null
  private pre: Uint8Array | null = null
  private post: Uint8Array | null = null
  private log: Uint8Array | null = null
  private lastObservations = 0

  constructor(observe: ObserveSetup | undefined) {
    this.recorder = observe?.mode === 'record' ? new TickRecorder() : null
    this.feed = observe?.mode === 'replay' ? new ReplayFeed(observe.log) : null
    this.sources = observe?.mode === 'record' && observe.deterministicSeed !== undefined
      ? new DeterministicSources(new GoPcg(observe.deterministicSeed, observe.deterministicSeed))
      : null
  }

  /** SPEC §12: a replay runs the start function and `_initialize`, not `agent_init`. */
  get runsAgentInit(): boolean {
    return this.feed === null
  }

  get recording(): boolean {
    return this.recorder !== null
  }

  /** Wraps the import object the live worker built. */
  wrapImports(imports: WebAssembly.Imports, capabilities: readonly string[], memory: MemoryRef): WebAssembly.Imports {
    const igor = (imports[IGOR] ?? {}) as HostFunctions
    const wasi = imports[WASI] as HostFunctions | undefined
    const out: WebAssembly.Imports = { ...imports }
    if (this.feed !== null) {
      // Nothing live is reachable on replay: every igor hostcall is served from the log.
      out[IGOR] = replayingIgor(capabilities, this.feed, memory)
      if (wasi !== undefined) out[WASI] = replayingWasi(wasi, this.feed, memory)
      return out
    }
    let liveIgor = igor
    let liveWasi = wasi
    if (this.sources !== null) {
      liveIgor = deterministicIgor(liveIgor, this.sources, memory)
      if (liveWasi !== undefined) liveWasi = deterministicWasi(liveWasi, this.sources, memory)
    }
    if (this.recorder !== null) {
      liveIgor = recordingIgor(liveIgor, this.recorder, memory)
      if (liveWasi !== undefined) liveWasi = recordingWasi(liveWasi, this.recorder, memory)
    }
    out[IGOR] = liveIgor
    if (liveWasi !== undefined) out[WASI] = liveWasi
    return out
  }

  /** After `agent_init`/resume: the state the first tick starts from. */
  started(snapshot: () => Uint8Array): void {
    if (this.recorder !== null) this.post = snapshot()
  }

  beginTick(): void {
    this.recorder?.begin()
  }

  /**
   * Ends the tick. `failed`/`error` say whether and what `agent_tick` threw.
   * Returns null when the caller must rethrow that error (a trap that is not a
   * replay's own abort); a replay's abort is a replay failure, returned.
   * `snapshot` takes the state after the tick (recording only).
   */
  endTick(failed: boolean, error: unknown, snapshot: () => Uint8Array): TickObservations | null {
    if (this.feed !== null) {
      if (failed && !(error instanceof ReplayAbort) && this.feed.failure === null) return null
      const failure = this.feed.finish()
      return { observations: 0, highestId: 0, recorded: false, replayFailure: failure }
    }
    if (this.recorder === null) return failed ? null : { observations: 0, highestId: 0, recorded: false }
    const sealed = this.recorder.end()
    if (failed) return null
    this.pre = this.post
    this.post = snapshot()
    this.log = sealed?.packed ?? null
    this.lastObservations = sealed === null ? 0 : countEntries(sealed.packed)
    return { observations: this.lastObservations, highestId: sealed?.highestId ?? 0, recorded: sealed !== null }
  }

  /** The last tick's record, or null before the first tick or when its log was not kept. */
  lastTick(): LastTickRecord | null {
    if (this.pre === null || this.post === null || this.log === null) return null
    return { pre: this.pre, post: this.post, log: this.log }
  }
}
