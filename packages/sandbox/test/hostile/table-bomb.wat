;; expect: refused: table 0 has an initial size of 10000000 entries; the limit is 100000 entries
;; (the issue's module: a few hundred bytes that made V8 abort the whole process)
(module
  (table 10000000 funcref)
  (memory (export "memory") 1)
  (func (export "agent_checkpoint") (result i32) (i32.const 8))
  (func (export "agent_checkpoint_ptr") (result i32) (i32.const 1024))
  (func (export "agent_resume") (param i32 i32) (i64.store (i32.const 1024) (i64.load (local.get 0))))
  (func (export "malloc") (param i32) (result i32) (i32.const 2048))
  (func (export "agent_init"))
  (func (export "agent_tick") (result i32) (i32.const 0)))
