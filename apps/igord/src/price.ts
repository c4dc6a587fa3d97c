// SPEC §15 Node price at the operator's hand: `igord price [--json]` and `igord price set <microcents>`
// (client side), and the control routes `GET /price` and `POST /price` they call on the running node.
// With no node running, `price` reads the data dir's durable price; `price set` refuses (README "Node
// price": a change is made by the node that charges it, so it is logged and in force at once).
import { resolve } from 'node:path'
import { stat } from 'node:fs/promises'
import { type NodeRuntime, type PriceSource, checkPrice, readDurablePrice } from '@igor/runner'
import { formatMicrocents } from '@igor/sandbox'
import { ControlUnavailableError, controlRequest } from './control/client.js'
import type { Io } from './io.js'

export type PriceCommand =
  | { readonly kind: 'price', readonly dataDir: string, readonly json: boolean, readonly timeoutMs: number }
  | { readonly kind: 'price-set', readonly dataDir: string, readonly pricePerSecond: bigint, readonly json: boolean, readonly timeoutMs: number }

/** `GET /price`, `igord price --json`: 64-bit values as decimal strings (exact). */
export interface PriceJson {
  readonly pricePerSecond: string
  /** `default`, `flag` (--price-per-second on this start), `durable` (price.json at start), `set` (igord price set). */
  readonly source: PriceSource
  /** Unix ns of the last change, when known. */
  readonly setAtNs: string | null
  /** False when no node runs on the data dir (the durable price, or the default, is shown). */
  readonly running: boolean
  /** `price set` only: the price before. */
  readonly previous?: string
}

/** The default `--price-per-second` (SPEC §15). */
const DEFAULT_PRICE = 1000n

function priceJson(runtime: NodeRuntime): PriceJson {
  const price = runtime.price
  return { pricePerSecond: price.pricePerSecond.toString(), source: price.source, setAtNs: price.setAtNs?.toString() ?? null, running: true }
}

/** The control socket's price routes; null: not one of them. */
export async function priceRoute(method: string, path: string, body: unknown, runtime: NodeRuntime | null): Promise<{ status: number, body: unknown } | null> {
  if (path !== '/price' || (method !== 'GET' && method !== 'POST')) return null
  if (runtime === null) return { status: 503, body: { error: { code: 'STARTING', message: 'the node is still starting; try again' } } }
  if (method === 'GET') return { status: 200, body: priceJson(runtime) }
  const value = (body as { pricePerSecond?: unknown } | null)?.pricePerSecond
  const { previous } = await runtime.setPrice(typeof value === 'string' || typeof value === 'bigint' ? value : String(value))
  return { status: 200, body: { ...priceJson(runtime), previous: previous.toString() } }
}

const SOURCE_TEXT: Record<PriceSource, string> = {
  default: 'the default',
  flag: '--price-per-second at start',
  durable: 'kept from an earlier price set or --price-per-second',
  set: 'igord price set'
}

function render(price: PriceJson): string {
  const value = BigInt(price.pricePerSecond)
  const where = price.running ? SOURCE_TEXT[price.source] : `${SOURCE_TEXT[price.source]}; no node is running, a start without --price-per-second uses it`
  return `price ${value} microcents per second (${formatMicrocents(value)} units/s), ${where}\n`
}

/** `igord price` and `igord price set <microcents>`. */
export async function runPrice(command: PriceCommand, io: Io): Promise<number> {
  let reply: { status: number, body: PriceJson & { error?: { message?: string } } }
  try {
    reply = command.kind === 'price'
      ? await controlRequest(command.dataDir, 'GET', '/price', undefined, command.timeoutMs)
      : await controlRequest(command.dataDir, 'POST', '/price', { pricePerSecond: command.pricePerSecond.toString() }, command.timeoutMs)
  } catch (error) {
    if (!(error instanceof ControlUnavailableError) || !/^no igord is running/.test(error.message)) throw error
    if (command.kind === 'price-set') {
      throw new ControlUnavailableError(`no igord is running with data dir ${resolve(command.dataDir)}; price set changes a running node's price (to start one at a price: igord start --price-per-second ${command.pricePerSecond})`)
    }
    const exists = await stat(command.dataDir).then((s) => s.isDirectory(), () => false)
    if (!exists) throw new ControlUnavailableError(`no igord is running with data dir ${resolve(command.dataDir)}, and there is no such directory`)
    const durable = await readDurablePrice(command.dataDir)
    const offline: PriceJson = durable === null
      ? { pricePerSecond: DEFAULT_PRICE.toString(), source: 'default', setAtNs: null, running: false }
      : { pricePerSecond: durable.pricePerSecond.toString(), source: 'durable', setAtNs: durable.setAtNs > 0n ? durable.setAtNs.toString() : null, running: false }
    io.stdout(command.json ? `${JSON.stringify(offline)}\n` : render(offline))
    return 0
  }
  if (reply.status !== 200) {
    io.stderr(`igord: ${reply.body.error?.message ?? 'the node refused the request'}\n`)
    return 1
  }
  const price = reply.body
  if (command.json) {
    io.stdout(`${JSON.stringify(price)}\n`)
  } else if (command.kind === 'price-set') {
    io.stdout(`price set: ${price.previous ?? '?'} → ${price.pricePerSecond} microcents per second, from each agent's next tick\n`)
  } else {
    io.stdout(render(price))
  }
  return 0
}

/** `price set`'s value: one line for anything but a whole number of microcents 0 … 2^63-1. */
export function parsePriceValue(text: string): bigint {
  try {
    return checkPrice(text, 'the price')
  } catch (error) {
    throw new RangeError((error as Error).message)
  }
}
