/**
 * Runs async sections one at a time, in call order. The agent host puts every
 * tick, checkpoint and authority change through one of these, so a hand-off
 * can never interleave with a tick (SPEC §7 source step 1: wait for the
 * in-flight tick to finish).
 */
export class Mutex {
  private tail: Promise<unknown> = Promise.resolve()

  run<T>(section: () => Promise<T>): Promise<T> {
    const result = this.tail.then(section)
    this.tail = result.catch(() => undefined)
    return result
  }
}
