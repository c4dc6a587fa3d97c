;; expect: refused: memory initial size 65536 pages (4096 MiB) exceeds the limit of 1024 pages (64 MiB)
(module
  (memory (export "memory") 65536)
  (func (export "agent_checkpoint") (result i32) (i32.const 8))
  (func (export "agent_checkpoint_ptr") (result i32) (i32.const 1024))
  (func (export "agent_resume") (param i32 i32))
  (func (export "malloc") (param i32) (result i32) (i32.const 2048))
  (func (export "agent_init"))
  (func (export "agent_tick") (result i32) (i32.const 0)))
