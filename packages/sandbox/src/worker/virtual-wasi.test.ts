import { describe, expect, it } from 'vitest'
import { WASI_PREVIEW1_FUNCTIONS } from '../wasm/abi.js'
import { DeadlineExceeded, ProcExit } from './errors.js'
import { wasiKit } from './test-kit.test-helper.js'
import { ERRNO, MAX_RANDOM_GET_BYTES } from './virtual-wasi.js'

const OUT = 60_000 // a scratch area near the end of the page

describe('virtual WASI preview1 (SPEC §11)', () => {
  it('provides every preview1 name and nothing else', () => {
    const { fns } = wasiKit()
    expect(Object.keys(fns).sort()).toEqual([...WASI_PREVIEW1_FUNCTIONS].sort())
  })

  it('args and environ are empty', () => {
    const { fns, view } = wasiKit()
    view().setUint32(OUT, 99, true)
    view().setUint32(OUT + 4, 99, true)
    for (const name of ['args_sizes_get', 'environ_sizes_get']) {
      expect(fns[name]!(OUT, OUT + 4)).toBe(ERRNO.SUCCESS)
      expect([view().getUint32(OUT, true), view().getUint32(OUT + 4, true)]).toEqual([0, 0])
    }
    expect(fns.args_get!(OUT, OUT + 8)).toBe(ERRNO.SUCCESS)
    expect(fns.environ_get!(OUT, OUT + 8)).toBe(ERRNO.SUCCESS)
    expect(fns.args_sizes_get!(70_000, 0)).toBe(ERRNO.FAULT)
  })

  it('clocks: realtime and monotonic in nanoseconds, others EINVAL', () => {
    const { fns, view } = wasiKit()
    expect(fns.clock_time_get!(0, 1n, OUT)).toBe(ERRNO.SUCCESS)
    const realtime = view().getBigUint64(OUT, true)
    expect(realtime / 1_000_000n).toBeGreaterThanOrEqual(BigInt(Date.now()) - 60_000n)
    expect(fns.clock_time_get!(1, 1n, OUT)).toBe(ERRNO.SUCCESS)
    const a = view().getBigUint64(OUT, true)
    expect(fns.clock_time_get!(1, 1n, OUT)).toBe(ERRNO.SUCCESS)
    expect(view().getBigUint64(OUT, true)).toBeGreaterThanOrEqual(a)
    expect(fns.clock_time_get!(2, 1n, OUT)).toBe(ERRNO.INVAL)
    expect(fns.clock_res_get!(1, OUT)).toBe(ERRNO.SUCCESS)
    expect(view().getBigUint64(OUT, true)).toBeGreaterThan(0n)
    expect(fns.clock_res_get!(3, OUT)).toBe(ERRNO.INVAL)
    expect(fns.clock_time_get!(0, 1n, 65_533)).toBe(ERRNO.FAULT)
  })

  it('random_get fills the buffer; over 1 MiB is EINVAL; out of bounds is EFAULT', () => {
    const { fns, memory } = wasiKit()
    expect(fns.random_get!(0, 4096)).toBe(ERRNO.SUCCESS)
    expect(new Uint8Array(memory.buffer, 0, 4096).some((b) => b !== 0)).toBe(true)
    expect(fns.random_get!(0, MAX_RANDOM_GET_BYTES + 1)).toBe(ERRNO.INVAL)
    expect(fns.random_get!(65_000, 1000)).toBe(ERRNO.FAULT)
  })

  it('fd_write on 1 and 2 becomes tagged log lines, line-buffered', () => {
    const kit = wasiKit()
    const len = kit.put(100, 'hello\nwor')
    kit.iov(0, 100, len)
    expect(kit.fns.fd_write!(1, 0, 1, OUT)).toBe(ERRNO.SUCCESS)
    expect(kit.view().getUint32(OUT, true)).toBe(len)
    expect(kit.lines).toEqual([{ stream: 'stdout', line: 'hello' }])
    const len2 = kit.put(200, 'ld\n')
    kit.iov(8, 200, len2)
    expect(kit.fns.fd_write!(1, 8, 1, OUT)).toBe(ERRNO.SUCCESS)
    kit.iov(16, 100, 5)
    expect(kit.fns.fd_write!(2, 16, 1, OUT)).toBe(ERRNO.SUCCESS)
    kit.finish()
    expect(kit.lines).toEqual([{ stream: 'stdout', line: 'hello' }, { stream: 'stdout', line: 'world' }, { stream: 'stderr', line: 'hello' }])
  })

  it('fd_write: bad iovecs are EFAULT, fd 0 and unknown fds EBADF', () => {
    const kit = wasiKit()
    kit.iov(0, 65_530, 100)
    expect(kit.fns.fd_write!(1, 0, 1, OUT)).toBe(ERRNO.FAULT)
    expect(kit.fns.fd_write!(1, 65_532, 2, OUT)).toBe(ERRNO.FAULT)
    kit.iov(0, 100, 1)
    expect(kit.fns.fd_write!(0, 0, 1, OUT)).toBe(ERRNO.BADF)
    for (let fd = 3; fd <= 10; fd++) expect(kit.fns.fd_write!(fd, 0, 1, OUT)).toBe(ERRNO.BADF)
    expect(kit.lines).toEqual([])
  })

  it('fd_read on 0 is end of input; on others EBADF', () => {
    const kit = wasiKit()
    kit.iov(0, 100, 50)
    kit.view().setUint32(OUT, 77, true)
    expect(kit.fns.fd_read!(0, 0, 1, OUT)).toBe(ERRNO.SUCCESS)
    expect(kit.view().getUint32(OUT, true)).toBe(0)
    expect(kit.fns.fd_read!(1, 0, 1, OUT)).toBe(ERRNO.BADF)
    expect(kit.fns.fd_read!(5, 0, 1, OUT)).toBe(ERRNO.BADF)
  })

  it('fd_fdstat_get: character devices with read (0) or write (1, 2) rights', () => {
    const { fns, view } = wasiKit()
    for (const [fd, right] of [[0, 1n << 1n], [1, 1n << 6n], [2, 1n << 6n]] as const) {
      expect(fns.fd_fdstat_get!(fd, OUT)).toBe(ERRNO.SUCCESS)
      expect(view().getUint8(OUT)).toBe(2)
      expect(view().getBigUint64(OUT + 8, true) & ((1n << 1n) | (1n << 6n))).toBe(right)
    }
    expect(fns.fd_fdstat_get!(3, OUT)).toBe(ERRNO.BADF)
  })

  it('fd_close and fd_renumber change only the virtual table', () => {
    const kit = wasiKit()
    kit.iov(0, 100, kit.put(100, 'x\n'))
    expect(kit.fns.fd_close!(1)).toBe(ERRNO.SUCCESS)
    expect(kit.fns.fd_close!(1)).toBe(ERRNO.BADF)
    expect(kit.fns.fd_write!(1, 0, 1, OUT)).toBe(ERRNO.BADF)
    expect(kit.fns.fd_renumber!(2, 1)).toBe(ERRNO.BADF) // 1 is closed now
    expect(kit.fns.fd_renumber!(2, 0)).toBe(ERRNO.SUCCESS) // 0 is now stderr
    expect(kit.fns.fd_write!(2, 0, 1, OUT)).toBe(ERRNO.BADF)
    expect(kit.fns.fd_write!(0, 0, 1, OUT)).toBe(ERRNO.SUCCESS)
    expect(kit.fns.fd_close!(7)).toBe(ERRNO.BADF)
    kit.finish()
    expect(kit.lines).toEqual([{ stream: 'stderr', line: 'x' }])
  })

  it('no preopens, no filesystem: fd_prestat_* EBADF, other fd_* and path_* EBADF or ENOTCAPABLE', () => {
    const { fns } = wasiKit()
    expect(fns.fd_prestat_get!(3, OUT)).toBe(ERRNO.BADF)
    expect(fns.fd_prestat_dir_name!(3, OUT, 10)).toBe(ERRNO.BADF)
    const others = WASI_PREVIEW1_FUNCTIONS.filter((n) => (n.startsWith('fd_') || n.startsWith('path_')) &&
      !['fd_write', 'fd_read', 'fd_fdstat_get', 'fd_close', 'fd_renumber', 'fd_prestat_get', 'fd_prestat_dir_name'].includes(n))
    expect(others.length).toBeGreaterThan(20)
    for (const name of others) {
      expect([name, fns[name]!(3, 0, 0, 0, 0, 0, 0, 0, 0)]).toEqual([name, ERRNO.BADF])
      expect([name, fns[name]!(1, 0, 0, 0, 0, 0, 0, 0, 0)]).toEqual([name, ERRNO.NOTCAPABLE])
    }
  })

  it('proc_raise is ENOSYS and sock_* ENOTSUP, with no effect', () => {
    const { fns } = wasiKit()
    expect(fns.proc_raise!(9)).toBe(ERRNO.NOSYS)
    expect(fns.proc_raise!(19)).toBe(ERRNO.NOSYS)
    for (const name of ['sock_accept', 'sock_recv', 'sock_send', 'sock_shutdown']) expect(fns[name]!(0, 0, 0, 0, 0, 0)).toBe(ERRNO.NOTSUP)
    expect(fns.sched_yield!()).toBe(ERRNO.SUCCESS)
  })

  it('proc_exit ends the call and is recorded even if the agent catches it', () => {
    const { fns, call } = wasiKit()
    expect(() => fns.proc_exit!(3)).toThrow(ProcExit)
    expect(call.exit?.code).toBe(3)
  })

  describe('poll_oneoff', () => {
    const clockSub = (kit: ReturnType<typeof wasiKit>, at: number, userdata: bigint, timeoutNs: bigint, flags = 0): void => {
      const v = kit.view()
      for (let b = 0; b < 48; b += 4) v.setUint32(at + b, 0, true)
      v.setBigUint64(at, userdata, true)
      v.setUint8(at + 8, 0)
      v.setUint32(at + 16, 1, true)
      v.setBigUint64(at + 24, timeoutNs, true)
      v.setUint16(at + 40, flags, true)
    }

    it('a short clock subscription waits and reports its event', () => {
      const kit = wasiKit(1000)
      clockSub(kit, 0, 42n, 2_000_000n)
      const before = process.hrtime.bigint()
      expect(kit.fns.poll_oneoff!(0, 1000, 1, OUT)).toBe(ERRNO.SUCCESS)
      expect(process.hrtime.bigint() - before).toBeGreaterThanOrEqual(1_000_000n)
      expect(kit.view().getUint32(OUT, true)).toBe(1)
      expect(kit.view().getBigUint64(1000, true)).toBe(42n)
      expect(kit.view().getUint16(1008, true)).toBe(0)
    })

    it('an absolute time in the past completes at once', () => {
      const kit = wasiKit()
      clockSub(kit, 0, 7n, 1n, 1)
      expect(kit.fns.poll_oneoff!(0, 1000, 1, OUT)).toBe(ERRNO.SUCCESS)
      expect(kit.view().getUint32(OUT, true)).toBe(1)
    })

    it('a wait past the call\'s deadline ends the call at once', () => {
      const kit = wasiKit(100)
      clockSub(kit, 0, 1n, 3600n * 1_000_000_000n)
      expect(() => kit.fns.poll_oneoff!(0, 1000, 1, OUT)).toThrow(DeadlineExceeded)
      expect(kit.call.overran?.message).toMatch(/poll_oneoff asked to wait 3600 s, past the call's deadline/)
    })

    it('fd subscriptions report EBADF without waiting', () => {
      const kit = wasiKit()
      clockSub(kit, 0, 1n, 3600n * 1_000_000_000n)
      const v = kit.view()
      v.setBigUint64(48, 9n, true)
      v.setUint8(48 + 8, 1)
      v.setUint32(48 + 16, 0, true)
      expect(kit.fns.poll_oneoff!(0, 1000, 2, OUT)).toBe(ERRNO.SUCCESS)
      expect(v.getUint32(OUT, true)).toBe(1)
      expect(v.getBigUint64(1000, true)).toBe(9n)
      expect(v.getUint16(1008, true)).toBe(ERRNO.BADF)
    })

    it('zero subscriptions EINVAL, out of bounds EFAULT', () => {
      const kit = wasiKit()
      expect(kit.fns.poll_oneoff!(0, 1000, 0, OUT)).toBe(ERRNO.INVAL)
      expect(kit.fns.poll_oneoff!(65_000, 1000, 100, OUT)).toBe(ERRNO.FAULT)
      expect(kit.fns.poll_oneoff!(0, 1000, 0x7fff_ffff, OUT)).toBe(ERRNO.FAULT)
    })
  })
})
