// Host functions of the `igor` import module (SPEC §5). AssemblyScript compiles
// lazily, so a module imports only the functions it actually calls; the build
// checks those against the agent's manifest capabilities.

// capability "clock": Unix time in nanoseconds.
@external("igor", "clock_now")
export declare function clock_now(): i64;

// capability "rand": fills [ptr, ptr+len) with random bytes; 0 = ok.
@external("igor", "rand_bytes")
export declare function rand_bytes(ptr: i32, len: i32): i32;

// capability "log": one UTF-8 log line.
@external("igor", "log_emit")
export declare function log_emit(ptr: i32, len: i32): void;

// capability "wallet": remaining budget in microcents.
@external("igor", "wallet_balance")
export declare function wallet_balance(): i64;
