import { runInspect } from '@igor/inspect'
import type { Io } from './io.js'

/** `igord --inspect-checkpoint <file> [--inspect-wasm <file>]`: the same report as `inspect` (SPEC §9). */
export async function runInspectCommand(command: { checkpointPath: string, wasmPath: string | null, json: boolean }, io: Io): Promise<number> {
  return await runInspect(
    { checkpointPath: command.checkpointPath, wasmPath: command.wasmPath ?? undefined, json: command.json },
    { stdout: { write: (text: string) => io.stdout(text) }, stderr: { write: (text: string) => io.stderr(text) }, program: 'igord' }
  )
}
