;; expect: halted: start failed — poll_oneoff sleeping an hour inside agent_init ends that call at once (past its 10 s deadline); start-up goes on
(module
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll_oneoff (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "agent_checkpoint") (result i32) (i32.const 8))
  (func (export "agent_checkpoint_ptr") (result i32) (i32.const 1024))
  (func (export "agent_resume") (param i32 i32) (i64.store (i32.const 1024) (i64.load (local.get 0))))
  (func (export "malloc") (param i32) (result i32) (i32.const 2048))
  (func (export "agent_init")
    (i64.store (i32.const 400) (i64.const 1)) (i32.store8 (i32.const 408) (i32.const 0))
    (i32.store (i32.const 416) (i32.const 1)) (i64.store (i32.const 424) (i64.const 3600000000000))
    (drop (call $poll_oneoff (i32.const 400) (i32.const 500) (i32.const 1) (i32.const 600))))
  (func (export "agent_tick") (result i32) (i64.store (i32.const 1024) (i64.add (i64.load (i32.const 1024)) (i64.const 1))) (i32.const 0)))
