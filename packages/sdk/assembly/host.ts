// Raw `igor` imports (SPEC §5, §13, §15). AssemblyScript compiles lazily, so a
// module imports only the functions it actually calls: an agent that never
// calls httpRequest does not import igor.http_request and needs no `http`
// capability in its manifest.

// capability "clock": Unix time in nanoseconds.
@external("igor", "clock_now")
export declare function clock_now(): i64;

// capability "rand": fills [ptr, ptr+len) with random bytes; 0 = ok, -1 error,
// -2 too long, -4 out of bounds.
@external("igor", "rand_bytes")
export declare function rand_bytes(ptr: usize, len: i32): i32;

// capability "log": one UTF-8 log line.
@external("igor", "log_emit")
export declare function log_emit(ptr: usize, len: i32): void;

// capability "wallet": remaining budget in microcents.
@external("igor", "wallet_balance")
export declare function wallet_balance(): i64;

// capability "wallet" (SPEC §15): how many receipts the agent has (sealed and
// the open one).
@external("igor", "wallet_receipt_count")
export declare function wallet_receipt_count(): i32;

// capability "wallet" (SPEC §15): receipt `index` (oldest first) written at
// ptr; its length, or −1 bad index, −4 buffer too small or out of bounds.
@external("igor", "wallet_receipt")
export declare function wallet_receipt(index: i32, ptr: usize, len: i32): i32;

// capability "pricing" (SPEC §15): this node's price per second in microcents.
@external("igor", "node_price")
export declare function node_price(): i64;

// capability "mobility" (SPEC §16): ask the node to move this agent to a node
// cheaper than this one and than max_price_per_second. 0 noted, −1 the
// manifest disables migration, −2 a move is already pending.
@external("igor", "request_move")
export declare function request_move(max_price_per_second: i64): i32;

// capability "http" (SPEC §13): returns the HTTP status, or −1 transport /
// bounds, −2 input too long, −3 host not allowed, −4 timeout, −5 response
// too large (size hint at resp_ptr), −6 not the owner (nothing sent).
@external("igor", "http_request")
export declare function http_request(
  method_ptr: usize, method_len: i32,
  url_ptr: usize, url_len: i32,
  headers_ptr: usize, headers_len: i32,
  body_ptr: usize, body_len: i32,
  resp_ptr: usize, resp_cap: i32
): i32;

// capability "x402" (SPEC §15): pays `amount` microcents from the budget to
// `recipient` (exactly an entry of the manifest's allowed_recipients) and
// writes [len u32][receipt signed by the agent's key] at receipt_ptr; returns
// 4 + len, or −1 budget too low, −2 recipient > 256 / memo > 512 bytes,
// −3 recipient not allowed, −4 over max_payment_microcents, −5 buffer too
// small (the receipt's length as u32 at receipt_ptr), −6 out of bounds,
// amount ≤ 0 or not the live owner. Nothing is charged on a negative answer.
@external("igor", "wallet_pay")
export declare function wallet_pay(
  amount: i64,
  recipient_ptr: usize, recipient_len: i32,
  memo_ptr: usize, memo_len: i32,
  receipt_ptr: usize, receipt_cap: i32
): i32;
