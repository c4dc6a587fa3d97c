;; expect: harmless — 300 stdout lines per tick: 64 reach the log, then one summary line; it keeps ticking
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (data (i32.const 64) "stdout flood line\0a")
  (memory (export "memory") 1)
  (func (export "agent_checkpoint") (result i32) (i32.const 8))
  (func (export "agent_checkpoint_ptr") (result i32) (i32.const 1024))
  (func (export "agent_resume") (param i32 i32) (i64.store (i32.const 1024) (i64.load (local.get 0))))
  (func (export "malloc") (param i32) (result i32) (i32.const 2048))
  (func (export "agent_init"))
  (func (export "agent_tick") (result i32) (local $i i32)
    (i32.store (i32.const 0) (i32.const 64)) (i32.store (i32.const 4) (i32.const 18))
    (loop $l
      (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 16)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 300))))
    (i64.store (i32.const 1024) (i64.add (i64.load (i32.const 1024)) (i64.const 1))) (i32.const 0)))
