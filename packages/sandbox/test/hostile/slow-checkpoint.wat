;; expect: harmless, but charged — agent_checkpoint busy-waits 100 ms each time (well inside the 500 ms share of a
;; shared worker even on a busy machine) (also the state copy each tick
;; keeps for replay, SPEC §12, which runs under the checkpoint deadline, not the tick's); that time comes off its budget
(module
  (import "wasi_snapshot_preview1" "clock_time_get" (func $now (param i32 i64 i32) (result i32)))
  (memory (export "memory") 1)
  (func $mono (result i64) (drop (call $now (i32.const 1) (i64.const 1) (i32.const 32))) (i64.load (i32.const 32)))
  (func (export "agent_checkpoint") (result i32) (local $until i64)
    (local.set $until (i64.add (call $mono) (i64.const 100000000)))
    (loop $spin (br_if $spin (i64.lt_u (call $mono) (local.get $until))))
    (i32.const 8))
  (func (export "agent_checkpoint_ptr") (result i32) (i32.const 1024))
  (func (export "agent_resume") (param i32 i32) (i64.store (i32.const 1024) (i64.load (local.get 0))))
  (func (export "malloc") (param i32) (result i32) (i32.const 2048))
  (func (export "agent_init"))
  (func (export "agent_tick") (result i32) (i64.store (i32.const 1024) (i64.add (i64.load (i32.const 1024)) (i64.const 1))) (i32.const 0)))
