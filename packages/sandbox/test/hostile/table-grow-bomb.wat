;; expect: harmless — table.grow by 10 million entries returns -1 (the maximum was rewritten to the cap); memory.grow past 64 MiB too
(module
  (table $t 1 funcref)
  (memory (export "memory") 1)
  (func (export "agent_checkpoint") (result i32) (i32.const 8))
  (func (export "agent_checkpoint_ptr") (result i32) (i32.const 1024))
  (func (export "agent_resume") (param i32 i32) (i64.store (i32.const 1024) (i64.load (local.get 0))))
  (func (export "malloc") (param i32) (result i32) (i32.const 2048))
  (func (export "agent_init"))
  (func (export "agent_tick") (result i32)
    (if (i32.ne (table.grow $t (ref.null func) (i32.const 10000000)) (i32.const -1)) (then unreachable))
    (if (i32.ne (memory.grow (i32.const 65535)) (i32.const -1)) (then unreachable))
    (i64.store (i32.const 1024) (i64.add (i64.load (i32.const 1024)) (i64.const 1))) (i32.const 0)))
