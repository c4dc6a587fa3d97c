import { CheckpointError, inspectCheckpoint, renderJson, renderText, wasmMismatchLine } from '@igor/inspector'
import type { InspectOptions } from '@igor/inspector'
import { EXIT_FAILURE, EXIT_OK, fail } from './io.js'
import type { InspectIo } from './io.js'
import { InputError, readInput } from './read-input.js'

export interface InspectRequest {
  readonly checkpointPath: string
  readonly wasmPath?: string | undefined
  readonly json?: boolean | undefined
}

/**
 * Reads, inspects and prints one checkpoint; resolves to the exit code.
 * Never rejects: every failure becomes one `inspect: …` line on stderr.
 */
export async function runInspect(request: InspectRequest, io: InspectIo): Promise<number> {
  try {
    const bytes = await readInput('checkpoint', request.checkpointPath)
    let options: InspectOptions = {}
    if (request.wasmPath !== undefined) {
      options = { wasm: { path: request.wasmPath, bytes: await readInput('wasm', request.wasmPath) } }
    }
    const report = inspectCheckpoint(bytes, options)
    io.stdout.write(request.json === true ? renderJson(report) : renderText(report))
    // SPEC §10: a mismatch names both hashes — the expected one in the report, the actual one here.
    const mismatch = request.json === true ? null : wasmMismatchLine(report)
    if (mismatch !== null) io.stderr.write(mismatch)
    // SPEC §8: a WASM mismatch is reported, and the exit code says so.
    return report.wasmVerified?.matches === false ? EXIT_FAILURE : EXIT_OK
  } catch (error) {
    if (error instanceof CheckpointError) fail(io, `${request.checkpointPath}: ${error.message}`)
    else if (error instanceof InputError) fail(io, error.message)
    else fail(io, `unexpected error: ${error instanceof Error ? error.message : String(error)}`)
    return EXIT_FAILURE
  }
}
