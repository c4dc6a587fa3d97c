/**
 * Bounds-checked access to the agent's linear memory. Every hostcall reads and
 * writes through this, so no pointer or length an agent passes can reach
 * anything but its own memory (SPEC §11).
 */
export class AgentMemory {
  private memory: WebAssembly.Memory | null = null

  attach(memory: WebAssembly.Memory | null): void {
    this.memory = memory
  }

  get byteLength(): number {
    return this.memory?.buffer.byteLength ?? 0
  }

  /** A view of `len` bytes at `ptr` (both read as u32), or null when any byte is outside the memory. */
  bytes(ptr: number, len: number): Uint8Array | null {
    if (this.memory === null) return null
    const start = ptr >>> 0
    const length = len >>> 0
    if (start + length > this.memory.buffer.byteLength) return null
    return new Uint8Array(this.memory.buffer, start, length)
  }

  /** A DataView over `len` bytes at `ptr`, or null when out of bounds. Re-taken per call: `memory.grow` replaces the buffer. */
  view(ptr: number, len: number): DataView | null {
    if (this.memory === null) return null
    const start = ptr >>> 0
    if (start + len > this.memory.buffer.byteLength) return null
    return new DataView(this.memory.buffer, start, len)
  }
}
