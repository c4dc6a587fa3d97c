import wabtInit from 'wabt'
import { describe, expect, it } from 'vitest'
import { ModuleError } from '../errors.js'
import { INTERRUPT_IMPORT, INTERRUPT_MODULE, addInterruptChecks } from './interrupt-checks.js'
import { wat } from '@igor/test-kit'

const FEATURES = { exceptions: true, tail_call: true, threads: true, simd: true, bulk_memory: true, reference_types: true, multi_value: true, sat_float_to_int: true, sign_extension: true }

// One module using every opcode family the pass walks; each export computes something from its argument.
const EVERY_FAMILY = `(module
  (type $binop (func (param i32 i32) (result i32)))
  (import "env" "twice" (func $twice (param i32) (result i32)))
  (memory 1 1)
  (table $t 4 funcref)
  (table $refs 2 externref)
  (tag $oops (param i32))
  (global $counter (mut i32) (i32.const 0))
  (global $fref funcref (ref.func $add))
  (data $d "\\01\\02\\03\\04\\05\\06\\07\\08")
  (elem (table $t) (i32.const 0) func $add $sub)
  (elem declare func $mul)
  (elem $passive funcref (ref.func $mul) (ref.null func))
  (start $init)
  (func $init (global.set $counter (i32.const 7)))
  (func $add (type $binop) (i32.add (local.get 0) (local.get 1)))
  (func $sub (type $binop) (i32.sub (local.get 0) (local.get 1)))
  (func $mul (type $binop) (i32.mul (local.get 0) (local.get 1)))
  (func $pair (param i32) (result i32 i32) (local.get 0) (i32.add (local.get 0) (i32.const 1)))
  ;; control: loops, blocks, br_table, if/else, select, calls (direct, indirect, through a funcref global)
  (func (export "control") (param $n i32) (result i32) (local $acc i32) (local $i i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (block $c2 (block $c1 (block $c0
          (br_table $c0 $c1 $c2 (i32.rem_u (local.get $i) (i32.const 3))))
          (local.set $acc (call_indirect (type $binop) (local.get $acc) (local.get $i) (i32.const 0))) (br $c2))
          (local.set $acc (call $twice (local.get $acc))))
        (local.set $acc (select (i32.sub (local.get $acc) (i32.const 1)) (local.get $acc) (i32.and (local.get $acc) (i32.const 1))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (if (result i32) (i32.gt_s (local.get $acc) (i32.const 1000))
      (then (i32.rem_u (local.get $acc) (i32.const 1000)))
      (else (i32.add (local.get $acc) (global.get $counter)))))
  ;; multi-value: a block with parameters and results, a function returning two values
  (func (export "multi") (param i32) (result i32)
    (call $pair (local.get 0))
    (block (param i32 i32) (result i32) (i32.mul))
    (loop (param i32) (result i32) (i32.add (i32.const 3))))
  ;; numeric: sign extension, saturating truncation, conversions, i64 and floats
  (func (export "numeric") (param i32) (result i32)
    (i32.add
      (i32.add (i32.extend8_s (local.get 0)) (i32.wrap_i64 (i64.extend32_s (i64.extend_i32_u (local.get 0)))))
      (i32.add (i32.trunc_sat_f32_s (f32.mul (f32.convert_i32_s (local.get 0)) (f32.const 1e10)))
               (i32.trunc_sat_f64_u (f64.sqrt (f64.convert_i32_u (local.get 0)))))))
  ;; bulk memory and tables, reference types
  (func (export "bulk") (param i32) (result i32)
    (memory.fill (i32.const 100) (local.get 0) (i32.const 16))
    (memory.init $d (i32.const 200) (i32.const 0) (i32.const 8))
    (memory.copy (i32.const 300) (i32.const 200) (i32.const 8))
    (data.drop $d)
    (table.init $t $passive (i32.const 2) (i32.const 0) (i32.const 2))
    (elem.drop $passive)
    (table.set $t (i32.const 3) (global.get $fref))
    (drop (table.grow $refs (ref.null extern) (i32.const 1)))
    (table.fill $refs (i32.const 0) (ref.null extern) (i32.const 1))
    (table.copy $t $t (i32.const 1) (i32.const 2) (i32.const 1))
    (i32.add
      (i32.add (i32.load8_u (i32.const 100)) (i32.load (i32.const 304)))
      (i32.add
        (call_indirect (type $binop) (local.get 0) (i32.const 5) (i32.const 1))
        (i32.add (i32.add (table.size $refs) (ref.is_null (table.get $t (i32.const 3))))
                 (call $pick (local.get 0))))))
  (func $pick (param i32) (result i32) (select (result i32) (local.get 0) (i32.const 9) (i32.const 0)))
  ;; SIMD
  (func (export "simd") (param i32) (result i32)
    (v128.store (i32.const 400) (i32x4.add (i32x4.splat (local.get 0)) (v128.const i32x4 1 2 3 4)))
    (i32.add (i32x4.extract_lane 3 (v128.load (i32.const 400)))
             (i8x16.extract_lane_u 0 (i8x16.shuffle 3 2 1 0 4 5 6 7 8 9 10 11 12 13 14 15 (v128.load32_zero (i32.const 400)) (v128.const i64x2 0 0)))))
  ;; exceptions
  (func (export "exceptions") (param i32) (result i32)
    (try (result i32)
      (do (if (i32.gt_u (local.get 0) (i32.const 10)) (then (throw $oops (i32.mul (local.get 0) (i32.const 2))))) (local.get 0))
      (catch $oops)))
  ;; tail calls: a countdown in constant stack space
  (func $down (param i32 i32) (result i32)
    (if (result i32) (i32.eqz (local.get 0)) (then (local.get 1))
      (else (return_call $down (i32.sub (local.get 0) (i32.const 1)) (i32.add (local.get 1) (i32.const 2))))))
  (func (export "tail") (param i32) (result i32) (return_call $down (local.get 0) (i32.const 0)))
  ;; atomics on an unshared memory
  (func (export "atomic") (param i32) (result i32)
    (i32.store (i32.const 500) (local.get 0))
    (drop (i32.atomic.rmw.add (i32.const 500) (i32.const 5)))
    (atomic.fence)
    (i32.atomic.load (i32.const 500)))
  ;; branches out of nested loops (each loop gets frames of its own around it), loops with results and with parameters
  (func (export "labels") (param $n i32) (result i32) (local $i i32) (local $j i32) (local $acc i32)
    (i32.add
      (block $out (result i32)
        (loop $outer (result i32)
          (local.set $j (i32.const 0))
          (block $next
            (loop $inner
              (local.set $acc (i32.add (local.get $acc) (i32.add (local.get $i) (local.get $j))))
              (br_if $out (local.get $acc) (i32.gt_u (local.get $acc) (i32.const 5000)))
              (local.set $j (i32.add (local.get $j) (i32.const 1)))
              (br_table $inner $next $outer (select (i32.const 0) (select (i32.const 1) (i32.const 2) (i32.and (local.get $i) (i32.const 1))) (i32.lt_u (local.get $j) (i32.const 4))))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $outer (i32.lt_u (local.get $i) (local.get $n)))
          (local.get $acc)))
      (loop $p (param i32) (result i32)
        (br_if $p (i32.add (i32.const 1)) (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.add (local.get $n) (i32.const 20)))))
      (i32.const 7)))
  ;; delegate and rethrow from inside loops
  (func (export "eh_loops") (param $n i32) (result i32) (local $i i32)
    (try (result i32)
      (do
        (try (result i32)
          (do
            (loop $l
              (try (do (if (i32.ge_u (local.get $i) (local.get $n)) (then (throw $oops (i32.add (local.get $i) (i32.const 100)))))) (delegate 1))
              (local.set $i (i32.add (local.get $i) (i32.const 1)))
              (br $l))
            (i32.const -1))
          (catch $oops
            (local.set $i)
            (loop $r (if (i32.and (local.get $i) (i32.const 1)) (then (rethrow 2))))
            (local.get $i))))
      (catch $oops (i32.add (i32.const 1000)))))
  ;; an exported table and a re-exported import keep working
  (export "t" (table $t))
  (export "twice" (func $twice))
)`

const COMPUTATIONS = ['control', 'multi', 'numeric', 'bulk', 'simd', 'exceptions', 'tail', 'atomic', 'labels', 'eh_loops']

interface Linked { exports: Record<string, (n: number) => number>, polls: () => number }

function instantiate(bytes: Uint8Array, onPoll: () => void = () => undefined): Linked {
  let polls = 0
  const imports: WebAssembly.Imports = {
    env: { twice: (n: number) => n * 2 },
    [INTERRUPT_MODULE]: { [INTERRUPT_IMPORT]: () => { polls += 1; onPoll() } }
  }
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), imports)
  return { exports: instance.exports as unknown as Linked['exports'], polls: () => polls }
}

/** The value, or the trap's message (the second `bulk` traps: its data segment was dropped). */
function outcome(linked: Linked, name: string, n: number): number | string {
  try {
    return linked.exports[name]!(n)
  } catch (error) {
    return (error as Error).message
  }
}

class Interrupted extends Error {}

describe('addInterruptChecks (SPEC §11 sharing a thread)', () => {
  it('a module using every opcode family validates after rewriting and computes the same results', async () => {
    const original = await wat(EVERY_FAMILY, FEATURES)
    const rewritten = addInterruptChecks(original)
    expect(WebAssembly.validate(rewritten)).toBe(true)
    const before = instantiate(original)
    const after = instantiate(rewritten)
    for (const name of COMPUTATIONS) {
      for (const n of [0, 1, 7, 12, 250, 4097]) {
        expect({ name, n, value: outcome(after, name, n) }).toEqual({ name, n, value: outcome(before, name, n) })
      }
    }
    // The re-exported import and the exported table still point at the same functions.
    expect(after.exports.twice!(21)).toBe(42)
    const entries = (linked: Linked): unknown[] => {
      const table = (linked.exports as unknown as { t: WebAssembly.Table }).t
      return [0, 1, 2, 3].map((i) => (table.get(i) as ((a: number, b: number) => number) | null)?.(2, 3) ?? null)
    }
    expect(entries(after)).toEqual(entries(before))
    expect(entries(after)[0]).toBe(5)
  })

  it('imports only the interrupt check beyond the original imports, and exports nothing new', async () => {
    const original = await wat(EVERY_FAMILY, FEATURES)
    const module = new WebAssembly.Module(addInterruptChecks(original))
    const originalModule = new WebAssembly.Module(original)
    expect(WebAssembly.Module.imports(module)).toEqual([...WebAssembly.Module.imports(originalModule), { module: INTERRUPT_MODULE, name: INTERRUPT_IMPORT, kind: 'function' }])
    expect(WebAssembly.Module.exports(module)).toEqual(WebAssembly.Module.exports(originalModule))
  })

  it('polls from a long loop, and an interrupt unwinds it', async () => {
    const bytes = addInterruptChecks(await wat(`(module (func (export "spin") (loop $l (br $l))))`))
    let polls = 0
    const linked = instantiate(bytes, () => { if (++polls === 5) throw new Interrupted('stop') })
    expect(() => linked.exports.spin!(0)).toThrow(Interrupted)
    expect(polls).toBe(5)
  })

  it('reaches loops nested deeply, each inner loop short', async () => {
    const depth = 12
    let body = '(br $l0)'
    for (let d = depth - 1; d >= 1; d--) body = `(local.set $i (i32.const 0)) (loop $l${d} (local.set $i (i32.add (local.get $i) (i32.const 1))) (br_if $l${d} (i32.lt_u (local.get $i) (i32.const 2))) ${d === depth - 1 ? '' : ''}) ${body}`
    const source = `(module (func (export "nest") (local $i i32) (loop $l0 ${body})))`
    const bytes = addInterruptChecks(await wat(source))
    const linked = instantiate(bytes, () => { throw new Interrupted('stop') })
    expect(() => linked.exports.nest!(0)).toThrow(Interrupted)
  })

  it('reaches recursion through function entries (no loop anywhere)', async () => {
    // Naive fib: millions of calls, no loop; and an endless countdown by tail calls.
    const source = `(module
      (func $fib (export "fib") (param i32) (result i32)
        (if (result i32) (i32.lt_u (local.get 0) (i32.const 2)) (then (local.get 0))
          (else (i32.add (call $fib (i32.sub (local.get 0) (i32.const 1))) (call $fib (i32.sub (local.get 0) (i32.const 2)))))))
      (func $forever (export "forever") (param i32) (result i32) (return_call $forever (i32.add (local.get 0) (i32.const 1)))))`
    const bytes = addInterruptChecks(await wat(source, FEATURES))
    const counting = instantiate(bytes)
    expect(counting.exports.fib!(31)).toBe(1346269)
    expect(counting.polls()).toBeGreaterThan(0)
    const stopping = instantiate(bytes, () => { throw new Interrupted('stop') })
    expect(() => stopping.exports.forever!(0)).toThrow(Interrupted)
  })

  it('a bulk instruction is charged by its length: a loop of 64 KiB fills polls within thousands of iterations, not millions', async () => {
    const source = `(module (memory 1) (global $n (export "n") (mut i32) (i32.const 0))
      (func (export "fill") (loop $l (memory.fill (i32.const 0) (i32.const 7) (i32.const 65536)) (global.set $n (i32.add (global.get $n) (i32.const 1))) (br $l))))`
    const bytes = addInterruptChecks(await wat(source))
    const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { [INTERRUPT_MODULE]: { [INTERRUPT_IMPORT]: () => { throw new Interrupted('stop') } } })
    expect(() => (instance.exports.fill as () => void)()).toThrow(Interrupted)
    expect((instance.exports.n as WebAssembly.Global).value).toBeLessThan(10_000)
  })

  it('an agent that catches the interrupt (catch_all) cannot get past its next check', async () => {
    const source = `(module
      (func $spin (loop $l (br $l)))
      (func (export "stubborn") (loop $again (try (do (call $spin)) (catch_all)) (br $again))))`
    const bytes = addInterruptChecks(await wat(source, FEATURES))
    let polls = 0
    const linked = instantiate(bytes, () => { polls += 1; throw new Interrupted('stop') })
    expect(() => linked.exports.stubborn!(0)).toThrow(Interrupted)
    expect(polls).toBeGreaterThanOrEqual(2)
  })

  it('keeps function names (the name section is remapped)', async () => {
    const wabt = await wabtInit()
    const parsed = wabt.parseWat('names.wat', `(module (import "env" "twice" (func $twice (param i32) (result i32))) (func $helper) (func $boom (export "boom") (call $helper) unreachable))`)
    const original = new Uint8Array(parsed.toBinary({ write_debug_names: true }).buffer)
    parsed.destroy()
    const linked = instantiate(addInterruptChecks(original))
    let stack = ''
    try {
      linked.exports.boom!(0)
    } catch (error) {
      stack = (error as Error).stack ?? ''
    }
    expect(stack).toMatch(/\$?boom/)
  })

  it('refuses an instruction it cannot walk, naming it', () => {
    // type () → (); one function whose body is a GC instruction (0xfb).
    const bytes = new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1, 4, 1, 0x60, 0, 0, 3, 2, 1, 0, 10, 6, 1, 4, 0, 0xfb, 0x00, 0x0b])
    let error: unknown
    try {
      addInterruptChecks(bytes)
    } catch (caught) {
      error = caught
    }
    expect(error).toBeInstanceOf(ModuleError)
    expect((error as ModuleError).code).toBe('WASM_INVALID')
    expect((error as ModuleError).message).toMatch(/opcode 0xfb/)
  })

  it('a module with no imports, globals or functions of its own gets them', async () => {
    const bytes = addInterruptChecks(await wat('(module (memory 1))'))
    expect(WebAssembly.validate(bytes)).toBe(true)
  })
})
