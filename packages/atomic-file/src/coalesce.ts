/**
 * Group commit of directory fsyncs (SPEC §5 durability before use; issue 21
 * item 3). Many writers renaming into one directory (every agent's checkpoint
 * lands in `checkpoints/`) each need the directory fsynced after their rename;
 * one fsync that STARTED after a rename completed makes that rename durable,
 * so concurrent writers share it. An fsync already in flight when a writer
 * asks started before (or during) its rename and does not count: the writer
 * waits for the next one, which starts when the one in flight ends and serves
 * every writer that asked meanwhile. A failure reaches every writer of that
 * fsync.
 */
import { resolve } from 'node:path'

/** Syncs one directory (the real one opens it and calls fsync). */
export type DirectoryFsync = (dir: string) => Promise<void>

interface Pending {
  readonly promise: Promise<void>
  resolve: () => void
  reject: (error: unknown) => void
}

interface DirectoryState {
  /** Started; its writers asked before it started. */
  running: Promise<void> | null
  /** Not started yet: everyone asking now joins it; it starts when `running` ends. */
  next: Pending | null
}

function pending(): Pending {
  let resolveFn!: () => void
  let rejectFn!: (error: unknown) => void
  const promise = new Promise<void>((res, rej) => { resolveFn = res; rejectFn = rej })
  return { promise, resolve: resolveFn, reject: rejectFn }
}

/** Coalesces fsyncs per directory (keyed by its resolved path); one per process is the point. */
export class DirectorySyncGroup {
  readonly #fsync: DirectoryFsync
  readonly #dirs = new Map<string, DirectoryState>()
  #started = 0
  #requested = 0

  constructor (fsync: DirectoryFsync) {
    this.#fsync = fsync
  }

  /** fsyncs started, and calls to `sync` (their difference is what sharing saved). */
  get stats(): { readonly started: number, readonly requested: number } {
    return { started: this.#started, requested: this.#requested }
  }

  /**
   * Resolves once an fsync of `dir` that started after this call has
   * succeeded; rejects with that fsync's error. Call it after the rename (or
   * unlink, mkdir) it must make durable has completed.
   */
  async sync(dir: string): Promise<void> {
    this.#requested++
    const key = resolve(dir)
    let state = this.#dirs.get(key)
    if (state === undefined) {
      state = { running: null, next: null }
      this.#dirs.set(key, state)
    }
    if (state.running === null) return this.#start(key, state, dir)
    // The one in flight started before this call: wait for the next.
    state.next ??= pending()
    return state.next.promise
  }

  #start(key: string, state: DirectoryState, dir: string): Promise<void> {
    this.#started++
    // Started now, after every caller that shares it asked (and so after their renames).
    const running = Promise.resolve().then(async () => this.#fsync(dir))
    state.running = running
    const done = (): void => {
      state.running = null
      const next = state.next
      if (next === null) {
        this.#dirs.delete(key)
        return
      }
      state.next = null
      this.#start(key, state, dir).then(next.resolve, next.reject)
    }
    running.then(done, done)
    return running
  }
}
