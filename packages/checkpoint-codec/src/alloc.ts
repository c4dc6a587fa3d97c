// Above this size zero-filling the output costs a second full pass over memory
// that the state copy then overwrites anyway; below it, zeroing is cheaper
// than the detour through Buffer (measured in bench/suites/codec.mjs).
const UNINITIALISED_FROM = 8 * 1024

const allocUnsafeSlow: ((size: number) => Uint8Array) | undefined =
  typeof Buffer === 'function' ? (size) => Buffer.allocUnsafeSlow(size) : undefined

/**
 * A fresh, unshared Uint8Array of `length` bytes whose every byte the caller
 * overwrites. Large ones skip zero-filling (Node's unpooled Buffer memory),
 * re-wrapped as a plain Uint8Array so `slice` keeps copy semantics and
 * `.buffer` holds exactly these bytes.
 */
export function allocForOverwrite(length: number): Uint8Array {
  if (length < UNINITIALISED_FROM || allocUnsafeSlow === undefined) return new Uint8Array(length)
  const raw = allocUnsafeSlow(length)
  return new Uint8Array(raw.buffer, raw.byteOffset, length)
}
