// Replaces AssemblyScript's default `env.abort` import: igord gives agents
// only `igor.*` imports (SPEC §5), so a failed assertion, a bad cast or an
// explicit `abort()` simply traps. Wired by the build preset as a library
// (`--lib <sdk>/asc-lib --use abort=igorAbort`), so it applies however the
// entry file reaches the SDK.
export function igorAbort(message: usize, fileName: usize, line: u32, column: u32): void {
  unreachable();
}
