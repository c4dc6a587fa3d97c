import wabtInit from 'wabt'

type Wabt = Awaited<ReturnType<typeof wabtInit>>
let wabt: Wabt | undefined

/** Compiles WebAssembly text to bytes with the `wabt` package (tests only). */
export async function wat(source: string, features: Record<string, boolean> = {}): Promise<Uint8Array> {
  wabt ??= await wabtInit()
  const module = wabt.parseWat('test.wat', source, features)
  try {
    return new Uint8Array(module.toBinary({}).buffer)
  } finally {
    module.destroy()
  }
}

/** The text form wabt reads back from bytes: an independent check of what we wrote. */
export async function text(bytes: Uint8Array, features: Record<string, boolean> = {}): Promise<string> {
  wabt ??= await wabtInit()
  const module = wabt.readWasm(bytes, { readDebugNames: false, ...features })
  try {
    return module.toText({})
  } finally {
    module.destroy()
  }
}

/** Agent exports of SPEC §5, minus the names in `omit` (without "memory" the memory stays, unexported). */
export function agentWat(options: { memory?: string, imports?: string, omit?: string[], extra?: string } = {}): string {
  const { memory = '(memory (export "memory") 1)', imports = '', omit = [], extra = '' } = options
  const exports: Record<string, string> = {
    agent_init: '(func (export "agent_init"))',
    agent_tick: '(func (export "agent_tick") (result i32) i32.const 0)',
    agent_checkpoint: '(func (export "agent_checkpoint") (result i32) i32.const 0)',
    agent_checkpoint_ptr: '(func (export "agent_checkpoint_ptr") (result i32) i32.const 0)',
    agent_resume: '(func (export "agent_resume") (param i32 i32))',
    malloc: '(func (export "malloc") (param i32) (result i32) i32.const 16)'
  }
  const body = Object.entries(exports).filter(([name]) => !omit.includes(name)).map(([, f]) => f).join('\n  ')
  return `(module
  ${imports}
  ${omit.includes('memory') ? '(memory 1)' : memory}
  ${body}
  (func (export "grow") (param i32) (result i32) local.get 0 memory.grow)
  ${extra}
)`
}

/** The poll a prepared module imports (SPEC §11 interruption checks), never interrupting: for instantiating prepared modules directly. */
export const NO_INTERRUPT: WebAssembly.Imports = { igor_internal: { interrupt_check: () => undefined } }
