// Typed wrappers over the `igor` imports (SPEC §5). Each wrapper needs its
// capability in the agent's manifest; an unused wrapper adds no import.
import { clock_now, log_emit, node_price, rand_bytes, request_move, wallet_balance } from "./host";

/** Unix time in nanoseconds (capability `clock`). Observed and replayed. */
export function clockNow(): i64 {
  return clock_now();
}

/**
 * Fills `out` with random bytes (capability `rand`). Returns 0, or the host's
 * negative code (−1 error, −2 too long, −4 out of bounds).
 */
export function randBytes(out: Uint8Array): i32 {
  if (out.length == 0) return 0;
  return rand_bytes(out.dataStart, out.length);
}

/** One log line (capability `log`). Empty messages are not sent. */
export function log(message: string): void {
  if (message.length == 0) return;
  const bytes = String.UTF8.encode(message);
  log_emit(changetype<usize>(bytes), bytes.byteLength);
}

/** Remaining budget in microcents (capability `wallet`). */
export function walletBalance(): i64 {
  return wallet_balance();
}

/**
 * This node's price per second in microcents (capability `pricing`, SPEC §15).
 * It may change between ticks (the operator's `igord price set`, or a
 * migration to another node). Observed and replayed.
 */
export function nodePrice(): i64 {
  return node_price();
}

/**
 * Asks the node to move this agent (capability `mobility`, SPEC §16). After
 * this tick the node places it among known nodes cheaper than both this node
 * and `maxPrice` (microcents per second; 0: only cheaper than this node). If
 * none accepts, the agent stays and ticks on. Returns 0 noted, −1 the
 * manifest disables migration, −2 a move is already pending. Observed and replayed.
 */
export function requestMove(maxPrice: i64): i32 {
  return request_move(maxPrice);
}
