import { CallState } from './call-state.js'
import { AgentMemory } from './memory.js'
import { LineAssembler, OutputCaps } from './output-caps.js'
import type { OutputStream } from './output-caps.js'
import { VirtualWasi } from './virtual-wasi.js'

/** A virtual WASI over one page of fresh memory, recording every output line. */
export function wasiKit(deadlineMs = 100) {
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 2 })
  const agentMemory = new AgentMemory()
  agentMemory.attach(memory)
  const call = new CallState()
  call.begin(1, deadlineMs)
  const lines: Array<{ stream: OutputStream, line: string }> = []
  const output = new OutputCaps((stream, line) => lines.push({ stream, line }))
  const stdout = new LineAssembler('stdout', output)
  const stderr = new LineAssembler('stderr', output)
  const wasi = new VirtualWasi({ memory: agentMemory, call, stdout, stderr })
  const fns = wasi.imports() as Record<string, (...args: unknown[]) => number>
  const view = (): DataView => new DataView(memory.buffer)
  const put = (ptr: number, text: string): number => {
    const bytes = new TextEncoder().encode(text)
    new Uint8Array(memory.buffer).set(bytes, ptr)
    return bytes.length
  }
  /** Writes one iovec at `at` pointing to `ptr`/`len`. */
  const iov = (at: number, ptr: number, len: number): void => {
    view().setUint32(at, ptr, true)
    view().setUint32(at + 4, len, true)
  }
  const finish = (): void => {
    stdout.flush()
    stderr.flush()
    output.finish()
  }
  return { memory, call, lines, output, wasi, fns, view, put, iov, finish }
}
