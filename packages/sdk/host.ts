// AssemblyScript resolves `@igor/sdk/host` to this file: the raw `igor`
// imports (clock_now, rand_bytes, log_emit, wallet_balance, wallet_receipt_count, wallet_receipt,
// node_price, http_request, wallet_pay, request_move) for
// code that manages its own memory instead of using the typed wrappers.
export * from "./assembly/host";
