// SPEC §15 Node price: the price every agent on this node pays, in microcents per second, mutable
// while the node runs (`igord price set`). One holder per node: every agent host reads its current
// value when it charges a tick, so a change is effective from the next tick. The operator's last
// word is durable in `<data-dir>/price.json` (atomic write): at a restart it wins over the default,
// and an explicit `--price-per-second` on that start replaces it (README "Node price").
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { RunnerError } from '../errors.js'
import { writeFileAtomic } from '../store/atomic-write.js'

/** The durable price's file name, inside the data directory. */
export const PRICE_FILE = 'price.json'
/** The highest price: an `i64` on the wire and in the checkpoint header (SPEC §4, §15). */
export const MAX_PRICE_PER_SECOND = (1n << 63n) - 1n
/** Larger files are refused unread: a price record is under 200 bytes. */
const MAX_PRICE_FILE_BYTES = 4096

/** Where the price in force came from. */
export type PriceSource =
  /** No durable price and no flag: SPEC §15's 1000. */
  | 'default'
  /** `--price-per-second` given on this start (it replaced any durable price). */
  | 'flag'
  /** Read from `price.json` at start (an earlier `price set` or flag). */
  | 'durable'
  /** `igord price set` while this node ran. */
  | 'set'

/** What `price.json` holds. */
export interface DurablePrice {
  readonly pricePerSecond: bigint
  /** Wall-clock Unix ns of the change. */
  readonly setAtNs: bigint
  /** Who said it: `price set` or `--price-per-second`. */
  readonly by: 'price set' | '--price-per-second'
}

/**
 * A price given by a person or a file: a whole number of microcents, 0 …
 * 2^63-1, exact (a bigint, or its decimal text). Anything else is refused with
 * one line (`PRICE_INVALID`).
 */
export function checkPrice(value: unknown, what = 'price'): bigint {
  let price: bigint
  if (typeof value === 'bigint') {
    price = value
  } else if (typeof value === 'string' && /^(0|[1-9][0-9]{0,18})$/.test(value)) {
    price = BigInt(value)
  } else {
    const shown = typeof value === 'string' ? JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value) : typeof value === 'number' ? String(value) : typeof value
    throw new RunnerError('PRICE_INVALID', `${what} must be a whole number of microcents from 0 to ${MAX_PRICE_PER_SECOND}, got ${shown}`)
  }
  if (price < 0n || price > MAX_PRICE_PER_SECOND) {
    throw new RunnerError('PRICE_INVALID', `${what} must be a whole number of microcents from 0 to ${MAX_PRICE_PER_SECOND}, got ${price}`)
  }
  return price
}

/** Reads `<dataDir>/price.json`; null when there is none. A damaged file is refused (`PRICE_INVALID`), never guessed at. */
export async function readDurablePrice(dataDir: string): Promise<DurablePrice | null> {
  const path = join(dataDir, PRICE_FILE)
  let bytes: Buffer
  try {
    bytes = await readFile(path)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw new RunnerError('STORE_IO', `${path}: ${(error as Error).message}`, { cause: error })
  }
  const damaged = (why: string): RunnerError =>
    new RunnerError('PRICE_INVALID', `${path}: ${why}; fix or delete it, or start with --price-per-second <microcents> to replace it`)
  if (bytes.length > MAX_PRICE_FILE_BYTES) throw damaged(`${bytes.length} bytes, more than a price record can be`)
  let json: unknown
  try {
    json = JSON.parse(bytes.toString('utf8'))
  } catch (error) {
    throw damaged(`not JSON (${(error as Error).message})`)
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw damaged('not a JSON object')
  const record = json as Record<string, unknown>
  let pricePerSecond: bigint
  try {
    pricePerSecond = checkPrice(record.pricePerSecond, 'pricePerSecond')
  } catch (error) {
    throw damaged((error as Error).message)
  }
  const setAtNs = typeof record.setAtNs === 'string' && /^(0|[1-9][0-9]{0,19})$/.test(record.setAtNs) ? BigInt(record.setAtNs) : 0n
  const by = record.by === '--price-per-second' ? '--price-per-second' : 'price set'
  return { pricePerSecond, setAtNs, by }
}

/** Replaces `<dataDir>/price.json` atomically (a crash leaves the old price or the new one). */
export async function writeDurablePrice(dataDir: string, price: DurablePrice): Promise<void> {
  const text = JSON.stringify({ pricePerSecond: price.pricePerSecond.toString(), setAtNs: price.setAtNs.toString(), by: price.by }) + '\n'
  await writeFileAtomic(dataDir, PRICE_FILE, new TextEncoder().encode(text))
}

/**
 * The node's current price: one object shared by the node runtime and every
 * agent host on it (`LiveAgent.pricePerSecond` reads `value` at each charge).
 */
export class NodePrice {
  constructor(public value: bigint, public source: PriceSource, public setAtNs: bigint | null = null) {}

  /**
   * SPEC §15 at start: a durable price wins over the default; an explicit
   * `--price-per-second` (`explicit`) wins over both and becomes the durable
   * price. Returns the holder and whether the durable file must be (re)written.
   */
  static resolve(flag: bigint, explicit: boolean, durable: DurablePrice | null): { price: NodePrice, write: boolean } {
    if (explicit) return { price: new NodePrice(flag, 'flag'), write: durable === null || durable.pricePerSecond !== flag }
    if (durable !== null) return { price: new NodePrice(durable.pricePerSecond, 'durable', durable.setAtNs > 0n ? durable.setAtNs : null), write: false }
    return { price: new NodePrice(flag, 'default'), write: false }
  }
}
