/**
 * js-libp2p 2.x supports Node 20, but some of its semver-compatible transitive
 * dependencies (it-queue via mortice, used by the peer store when a
 * connection closes) call `Promise.withResolvers`, which Node 20 lacks: an
 * igord whose peer vanished mid-hand-off crashed on it. Provide the standard
 * method when it is missing; on Node 22+ this does nothing.
 */
interface Resolvers<T> { promise: Promise<T>, resolve: (value: T | PromiseLike<T>) => void, reject: (reason?: unknown) => void }

const PromiseWithResolvers = Promise as PromiseConstructor & { withResolvers?: <T>() => Resolvers<T> }

if (typeof PromiseWithResolvers.withResolvers !== 'function') {
  Object.defineProperty(Promise, 'withResolvers', {
    configurable: true,
    writable: true,
    value: function withResolvers<T>(this: PromiseConstructor): Resolvers<T> {
      let resolve!: Resolvers<T>['resolve']
      let reject!: Resolvers<T>['reject']
      const promise = new this<T>((res, rej) => { resolve = res; reject = rej })
      return { promise, resolve, reject }
    }
  })
}

export {}
