;; expect: halted: agent did not finish within 100 ms — log_emit in an endless loop inside a tick; at most 64 lines reach the log
(module
  (import "igor" "log_emit" (func $log (param i32 i32)))
  (data (i32.const 64) "flood")
  (memory (export "memory") 1)
  (func (export "agent_checkpoint") (result i32) (i32.const 8))
  (func (export "agent_checkpoint_ptr") (result i32) (i32.const 1024))
  (func (export "agent_resume") (param i32 i32) (i64.store (i32.const 1024) (i64.load (local.get 0))))
  (func (export "malloc") (param i32) (result i32) (i32.const 2048))
  (func (export "agent_init"))
  (func (export "agent_tick") (result i32)
    (loop $l (call $log (i32.const 64) (i32.const 5)) (br $l))
    (i32.const 0)))
