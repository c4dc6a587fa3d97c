/**
 * SPEC §11 output caps: per call at most 64 lines and 64 KiB across
 * `log_emit`, stdout and stderr; the excess is dropped and one line says how
 * much; a single line is cut at 16 KiB. The worker enforces them before
 * anything is posted, so the queue between an agent and the node holds at
 * most 64 lines + 1 summary per call (the node counts again, see AgentSandbox).
 */

export interface OutputLimits {
  readonly maxLinesPerCall: number
  readonly maxBytesPerCall: number
  readonly maxLineBytes: number
}

export const OUTPUT_LIMITS: OutputLimits = Object.freeze({ maxLinesPerCall: 64, maxBytesPerCall: 64 * 1024, maxLineBytes: 16 * 1024 })

/** `agent` = `igor.log_emit`, `stdout`/`stderr` = WASI fd 1/2, `sandbox` = the summary line the sandbox adds. */
export type OutputStream = 'agent' | 'stdout' | 'stderr' | 'sandbox'

export type LineSink = (stream: OutputStream, line: string) => void

const utf8 = new TextDecoder('utf-8', { fatal: false })

/** Counts one call's output against the caps and passes what fits to the sink. */
export class OutputCaps {
  private lines = 0
  private bytes = 0
  private droppedLines = 0
  private droppedBytes = 0
  private cutLines = 0

  constructor(private readonly sink: LineSink, readonly limits: OutputLimits = OUTPUT_LIMITS) {}

  /**
   * One line (no newline). `kept` holds at most `maxLineBytes` of it (callers
   * need not copy more); `length` is the line's full length in bytes.
   */
  line(stream: Exclude<OutputStream, 'sandbox'>, kept: Uint8Array, length = kept.byteLength): void {
    const shown = kept.byteLength > this.limits.maxLineBytes ? kept.subarray(0, this.limits.maxLineBytes) : kept
    if (this.lines + 1 > this.limits.maxLinesPerCall || this.bytes + shown.byteLength > this.limits.maxBytesPerCall) {
      this.droppedLines += 1
      this.droppedBytes += length
      return
    }
    this.lines += 1
    this.bytes += shown.byteLength
    let text = utf8.decode(shown)
    if (length > shown.byteLength) {
      this.cutLines += 1
      text += ` … [line cut at ${this.limits.maxLineBytes} of ${length} bytes]`
    }
    this.sink(stream, text)
  }

  /** True once this call's line cap is used up: writers may then only count. */
  get full(): boolean {
    return this.lines >= this.limits.maxLinesPerCall
  }

  /** A line refused outright (e.g. a `log_emit` over 1 MiB): only counted in the summary. */
  drop(length: number): void {
    this.droppedLines += 1
    this.droppedBytes += length
  }

  /** Ends the call: emits the one summary line when something was dropped, and resets the counters. */
  finish(): { droppedLines: number, droppedBytes: number } {
    const dropped = { droppedLines: this.droppedLines, droppedBytes: this.droppedBytes }
    if (this.droppedLines > 0) {
      this.sink('sandbox', `agent output over the per-call cap (${this.limits.maxLinesPerCall} lines, ${this.limits.maxBytesPerCall} bytes): dropped ${this.droppedLines} lines, ${this.droppedBytes} bytes`)
    }
    this.lines = 0
    this.bytes = 0
    this.droppedLines = 0
    this.droppedBytes = 0
    this.cutLines = 0
    return dropped
  }
}

/**
 * Assembles WASI writes to fd 1/2 into lines (SPEC §11: line-buffered). Keeps
 * at most `maxLineBytes` of a line in memory however long it grows; the rest
 * is only counted.
 */
export class LineAssembler {
  private parts: Uint8Array[] = []
  private kept = 0
  private length = 0

  constructor(private readonly stream: 'stdout' | 'stderr', private readonly caps: OutputCaps) {}

  write(bytes: Uint8Array): void {
    let start = 0
    while (start <= bytes.byteLength) {
      const newline = bytes.indexOf(10, start)
      const end = newline === -1 ? bytes.byteLength : newline
      this.append(bytes.subarray(start, end))
      if (newline === -1) return
      this.emit()
      start = newline + 1
    }
  }

  /** Emits a pending partial line (at the end of every call). */
  flush(): void {
    if (this.length > 0) this.emit()
  }

  private append(segment: Uint8Array): void {
    this.length += segment.byteLength
    const room = this.caps.limits.maxLineBytes - this.kept
    // Over the line cap nothing more is shown this call: count, do not copy.
    if (room <= 0 || segment.byteLength === 0 || this.caps.full) return
    const copy = segment.slice(0, room) // the agent's memory may change before the line ends
    this.parts.push(copy)
    this.kept += copy.byteLength
  }

  private emit(): void {
    if (this.caps.full) this.caps.drop(this.length)
    else this.caps.line(this.stream, this.parts.length === 1 ? this.parts[0]! : concat(this.parts, this.kept), this.length)
    this.parts = []
    this.kept = 0
    this.length = 0
  }
}

function concat(parts: Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total)
  let offset = 0
  for (const part of parts) {
    out.set(part, offset)
    offset += part.byteLength
  }
  return out
}
