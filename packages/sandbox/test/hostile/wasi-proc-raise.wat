;; expect: harmless — proc_raise(SIGKILL) and proc_raise(SIGSTOP) answer ENOSYS (52) and do nothing
(module
  (import "wasi_snapshot_preview1" "proc_raise" (func $raise (param i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "agent_checkpoint") (result i32) (i32.const 8))
  (func (export "agent_checkpoint_ptr") (result i32) (i32.const 1024))
  (func (export "agent_resume") (param i32 i32) (i64.store (i32.const 1024) (i64.load (local.get 0))))
  (func (export "malloc") (param i32) (result i32) (i32.const 2048))
  (func (export "agent_init"))
  (func (export "agent_tick") (result i32)
    (if (i32.ne (call $raise (i32.const 9)) (i32.const 52)) (then unreachable))
    (if (i32.ne (call $raise (i32.const 19)) (i32.const 52)) (then unreachable))
    (i64.store (i32.const 1024) (i64.add (i64.load (i32.const 1024)) (i64.const 1))) (i32.const 0)))
