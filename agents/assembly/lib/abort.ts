// Replaces AssemblyScript's default `env.abort` import (wired by the build with
// `--use abort=assembly/lib/abort/agentAbort`): SPEC §5 allows agents to import
// only `igor.*`, so a failed assertion simply traps.
export function agentAbort(message: usize, fileName: usize, line: u32, column: u32): void {
  unreachable();
}
