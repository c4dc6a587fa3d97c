/**
 * Generator of hostile and odd agent modules for the survival property
 * (SPEC §11: no module shape can abort the process). Shared by the vitest
 * property test (fixed seed, few runs) and `scripts/fuzz-modules.mjs` (long run).
 *
 * A module is described structurally (memory, tables, globals, imports, what
 * the exports do), printed as WAT, assembled with wabt, then optionally
 * byte-mutated (random bytes, huge LEB128 values, truncation).
 */
import fc from 'fast-check'
import wabtInit from 'wabt'

const WASI = [
  'args_get', 'args_sizes_get', 'environ_get', 'environ_sizes_get', 'clock_res_get', 'clock_time_get', 'fd_close',
  'fd_fdstat_get', 'fd_prestat_get', 'fd_prestat_dir_name', 'fd_read', 'fd_renumber', 'fd_seek', 'fd_write',
  'path_open', 'poll_oneoff', 'proc_exit', 'proc_raise', 'random_get', 'sched_yield', 'sock_accept', 'sock_recv'
]
const IGOR = ['clock_now', 'rand_bytes', 'log_emit', 'wallet_balance']
const IGOR_SIGNATURE = {
  clock_now: '(result i64)',
  rand_bytes: '(param i32 i32) (result i32)',
  log_emit: '(param i32 i32)',
  wallet_balance: '(result i64)'
}

const u32 = fc.oneof(
  fc.constantFrom(0, 1, 8, 1024, 65535, 65536, 0x7fffffff, 0xffffffff, 0xfffffff0),
  fc.integer({ min: 0, max: 70_000 })
)
const i32 = u32.map((n) => n | 0)

/** One statement inside an exported function. */
const statement = (ctx) => fc.oneof(
  { weight: 4, arbitrary: fc.record({ wasi: fc.integer({ min: 0, max: Math.max(0, ctx.wasi - 1) }), args: fc.array(i32, { minLength: 9, maxLength: 9 }) })
    .map(({ wasi, args }) => ctx.wasi === 0 ? 'nop' : `(drop (call $w${wasi} ${args.map((a) => `(i32.const ${a})`).join(' ')}))`) },
  { weight: 2, arbitrary: fc.tuple(i32, i32).map(([p, l]) => ctx.log ? `(call $log_emit (i32.const ${p}) (i32.const ${l}))` : 'nop') },
  { weight: 2, arbitrary: fc.tuple(i32, i32).map(([p, l]) => ctx.rand ? `(drop (call $rand_bytes (i32.const ${p}) (i32.const ${l})))` : 'nop') },
  { weight: 2, arbitrary: u32.map((n) => `(drop (memory.grow (i32.const ${n | 0})))`) },
  { weight: 2, arbitrary: u32.map((n) => ctx.tables > 0 ? `(drop (table.grow 0 (ref.null func) (i32.const ${n | 0})))` : 'nop') },
  { weight: 1, arbitrary: fc.tuple(i32, i32).map(([a, v]) => `(i32.store (i32.const ${a}) (i32.const ${v}))`) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 100_000 }).map((n) => ctx.log
    ? `(block $b (loop $l (call $log_emit (i32.const 0) (i32.const 64)) (br_if $b (i32.ge_u (global.get $n) (i32.const ${n}))) (global.set $n (i32.add (global.get $n) (i32.const 1))) (br $l)))`
    : 'nop') },
  { weight: 1, arbitrary: fc.constantFrom('unreachable', 'nop', 'nop', 'nop') }
)

const body = (ctx) => fc.array(statement(ctx), { maxLength: 5 }).map((s) => s.join(' '))

export const moduleShape = fc.record({
  memory: fc.record({ initial: fc.constantFrom(0, 1, 2, 16, 1024, 1025), max: fc.option(fc.constantFrom(1, 2, 1024, 65536), { nil: null }) }),
  tables: fc.array(fc.record({ initial: fc.constantFrom(0, 1, 100, 100_000, 100_001, 10_000_000), max: fc.option(fc.constantFrom(1, 100_000, 4_000_000_000), { nil: null }) }), { maxLength: 3 }),
  globals: fc.integer({ min: 0, max: 3 }),
  wasi: fc.uniqueArray(fc.constantFrom(...WASI), { maxLength: 6 }),
  igor: fc.uniqueArray(fc.constantFrom(...IGOR), { maxLength: 4 }),
  entry: fc.constantFrom(null, '_start', '_initialize'),
  // Mostly sane ABI answers, so that most agents get as far as ticking; sometimes hostile ones.
  checkpointSize: fc.oneof({ weight: 3, arbitrary: fc.constantFrom(0, 8) }, { weight: 1, arbitrary: i32 }),
  checkpointPtr: fc.oneof({ weight: 3, arbitrary: fc.constant(1024) }, { weight: 1, arbitrary: i32 }),
  mallocPtr: fc.oneof({ weight: 3, arbitrary: fc.constant(2048) }, { weight: 1, arbitrary: i32 })
}).chain((shape) => {
  const ctx = { wasi: shape.wasi.length, log: shape.igor.includes('log_emit'), rand: shape.igor.includes('rand_bytes'), tables: shape.tables.length }
  return fc.record({ tick: body(ctx), init: body(ctx), entryBody: body(ctx), checkpoint: body(ctx) }).map((bodies) => ({ ...shape, ...bodies }))
})

/** Byte-level damage applied after assembling. */
export const mutations = fc.array(fc.oneof(
  fc.record({ kind: fc.constant('set'), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('leb'), at: fc.nat(), value: fc.constantFrom(0xffffffff, 10_000_000, 0x7fffffff, 65536) }),
  fc.record({ kind: fc.constant('cut'), at: fc.nat() })
), { maxLength: 3 })

export const hostileModule = fc.record({ shape: moduleShape, mutations: fc.oneof({ weight: 2, arbitrary: fc.constant([]) }, { weight: 1, arbitrary: mutations }) })

export function toWat(shape) {
  const wasi = shape.wasi.map((name, i) => `(import "wasi_snapshot_preview1" "${name}" (func $w${i} (param i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))`)
  const igor = shape.igor.map((name) => `(import "igor" "${name}" (func $${name} ${IGOR_SIGNATURE[name]}))`)
  const tables = shape.tables.map((t) => `(table ${t.initial}${t.max === null ? '' : ` ${Math.max(t.max, t.initial)}`} funcref)`)
  const globals = Array.from({ length: shape.globals }, (_, i) => `(global $g${i} (mut i32) (i32.const ${i}))`)
  const max = shape.memory.max === null ? '' : ` ${Math.max(shape.memory.max, shape.memory.initial)}`
  const entry = shape.entry === null ? '' : `(func (export "${shape.entry}") ${shape.entryBody})`
  return `(module
  ${wasi.join('\n  ')}
  ${igor.join('\n  ')}
  (memory (export "memory") ${shape.memory.initial}${max})
  ${tables.join('\n  ')}
  (global $n (mut i32) (i32.const 0))
  ${globals.join('\n  ')}
  ${entry}
  (func (export "agent_init") ${shape.init})
  (func (export "agent_tick") (result i32) ${shape.tick} (i32.const 0))
  (func (export "agent_checkpoint") (result i32) ${shape.checkpoint} (i32.const ${shape.checkpointSize}))
  (func (export "agent_checkpoint_ptr") (result i32) (i32.const ${shape.checkpointPtr}))
  (func (export "agent_resume") (param i32 i32))
  (func (export "malloc") (param i32) (result i32) (i32.const ${shape.mallocPtr}))
)`
}

function encodeU32(value) {
  const out = []
  let rest = value >>> 0
  do {
    let byte = rest & 0x7f
    rest = Math.floor(rest / 128)
    if (rest !== 0) byte |= 0x80
    out.push(byte)
  } while (rest !== 0)
  return out
}

export function mutate(bytes, list) {
  let out = Array.from(bytes)
  for (const m of list) {
    if (out.length <= 8) break
    const at = 8 + (m.at % (out.length - 8))
    if (m.kind === 'set') out[at] = m.value
    else if (m.kind === 'leb') out.splice(at, 1, ...encodeU32(m.value))
    else out = out.slice(0, at)
  }
  return new Uint8Array(out)
}

let wabt
/** Assembles a generated module (and applies its mutations). */
export async function assemble({ shape, mutations: list }) {
  wabt ??= await wabtInit()
  const module = wabt.parseWat('fuzz.wat', toWat(shape), { reference_types: true, bulk_memory: true })
  try {
    return mutate(new Uint8Array(module.toBinary({}).buffer), list)
  } finally {
    module.destroy()
  }
}

/** All capabilities, so every generated `igor` import links. */
export const MANIFEST = '{"capabilities": {"clock": {"version": 1}, "rand": {"version": 1}, "log": {"version": 1}, "wallet": {"version": 1}}}'
