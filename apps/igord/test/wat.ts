import { writeFile } from 'node:fs/promises'
import wabtInit from 'wabt'

let wabt: Awaited<ReturnType<typeof wabtInit>> | undefined

/** Compiles WebAssembly text with the `wabt` npm package and writes the module to `path`. */
export async function writeWat(path: string, source: string): Promise<string> {
  wabt ??= await wabtInit()
  const module = wabt.parseWat('agent.wat', source)
  try {
    await writeFile(path, module.toBinary({}).buffer)
  } finally {
    module.destroy()
  }
  return path
}

/** The SPEC §5 agent exports over one page of memory; `omit` drops some, `body` adds functions. */
export function agentWat({ imports = '', omit = [] as string[], tick = 'i32.const 0', extra = '' } = {}): string {
  const exports: Record<string, string> = {
    agent_init: '(func (export "agent_init"))',
    agent_tick: `(func (export "agent_tick") (result i32) ${tick})`,
    agent_checkpoint: '(func (export "agent_checkpoint") (result i32) i32.const 8)',
    agent_checkpoint_ptr: '(func (export "agent_checkpoint_ptr") (result i32) i32.const 1024)',
    agent_resume: '(func (export "agent_resume") (param i32 i32) (i64.store (i32.const 1024) (i64.load (local.get 0))))',
    malloc: '(func (export "malloc") (param i32) (result i32) i32.const 2048)'
  }
  return `(module
  ${imports}
  (memory (export "memory") 1)
  ${Object.entries(exports).filter(([name]) => !omit.includes(name)).map(([, f]) => f).join('\n  ')}
  ${extra}
)`
}

/**
 * A command-style wasip1 agent, as other toolchains emit: `_start` and every
 * tick write a line to stdout through WASI `fd_write`; the state is a tick counter.
 */
export const WASI_AGENT_WAT = `(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 64) "hello from wat\\n")
  (data (i32.const 96) "wat tick\\n")
  (func $say (param $ptr i32) (param $len i32)
    (i32.store (i32.const 0) (local.get $ptr))
    (i32.store (i32.const 4) (local.get $len))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8))))
  (func (export "_start") (call $say (i32.const 64) (i32.const 15)))
  (func (export "agent_init"))
  (func (export "agent_tick") (result i32)
    (i64.store (i32.const 1024) (i64.add (i64.load (i32.const 1024)) (i64.const 1)))
    (call $say (i32.const 96) (i32.const 9))
    (i32.const 0))
  (func (export "agent_checkpoint") (result i32) (i32.const 8))
  (func (export "agent_checkpoint_ptr") (result i32) (i32.const 1024))
  (func (export "agent_resume") (param i32 i32) (i64.store (i32.const 1024) (i64.load (local.get 0))))
  (func (export "malloc") (param i32) (result i32) (i32.const 2048))
)`
