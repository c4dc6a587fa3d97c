import { readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { agentWat, counterValue, recordingLogger, wat } from '@igor/test-kit'
import { ModuleError } from './errors.js'
import type { ModuleErrorCode } from './errors.js'
import { EMPTY_MANIFEST, parseManifest } from './manifest/manifest.js'
import type { Manifest } from './manifest/manifest.js'
import { AgentSandbox, SandboxError } from './pool/agent-sandbox.js'
import type { SandboxFailure } from './pool/agent-sandbox.js'
import { workerPool } from './pool/worker-pool.js'
import { sandboxFailure, startWatSandbox } from './pool/sandbox.test-helper.js'
import { prepareAgentModule } from './wasm/prepare.js'

// Issue 18 / SPEC §11: the hostile corpus (test/hostile/*.wat) against the
// sandbox alone, no runner. apps/igord/test/sandbox.e2e.test.ts runs the same
// files end to end in a real igord; this is the package's own proof of the
// rows of the SPEC §11 table. Every file in the directory is a test and must
// carry a `;; expect:` line:
// - `refused: <reason>`: prepareAgentModule rejects with a ModuleError whose
//   message is `<path>: <reason>` (the runner only says where the module was);
// - `halted: …`: the runner's lifecycle (start, the first checkpoint, ticks,
//   the first periodic checkpoint) ends in a SandboxError; HALTS below says at
//   which call, of which kind and with which message (the e2e's EXPECTED
//   without the runner's "start failed:"/"tick failed:" prefix);
// - `harmless`: init, ticks and checkpoints succeed and the u64 tick counter
//   at offset 1024 (the checkpoint's 8 bytes) counts the ticks.
// Each runs beside a healthy neighbour in the same shared worker thread
// (agentsPerWorker > 1), which must keep its state, its ticks and its thread;
// twice: recording (SPEC §12, as the runner runs a live agent: init and every
// tick also copy the state out with agent_checkpoint, which moves the halts of
// the bad checkpoints to the start) and not recording.

const CORPUS = fileURLToPath(new URL('../test/hostile/', import.meta.url))
const NAMES = readdirSync(CORPUS).filter((f) => f.endsWith('.wat')).map((f) => f.slice(0, -'.wat'.length)).sort()

/** As in the e2e's MANIFESTS: modules importing an `igor` hostcall declare its capability. */
const MANIFESTS: Record<string, Manifest> = {
  'log-flood-forever': parseManifest('{"capabilities": {"log": {"version": 1}}}', { source: 'log-flood-forever.manifest.json' })
}

/** As the e2e's STORED bad-malloc: started from a stored state, so `malloc` + `agent_resume` run. */
const RESUME_FROM: Record<string, Uint8Array> = { 'bad-malloc': new Uint8Array(8) }

/** Known refusal codes (the `;; expect:` line gives the message only). */
const REFUSAL_CODES: Record<string, ModuleErrorCode> = { 'table-bomb': 'MODULE_LIMIT', 'memory-bomb': 'MEMORY_LIMIT' }

/** The runner's order of calls, as far as the sandbox sees it (SPEC §11): a failure at `start` or `checkpoint 1` is its "start failed". */
type Step = 'start' | 'checkpoint 1' | 'tick 1' | 'tick 2' | 'tick 3' | 'checkpoint 2'

interface Halt {
  /** Where a sandbox that does not record ends it. */
  readonly step: Step
  /** Where it ends when the sandbox records (SPEC §12, as the runner runs every live agent), when that differs: init and every tick then copy the state out with agent_checkpoint. */
  readonly recordingStep?: Step
  readonly kind: SandboxFailure
  readonly message: RegExp
}

/** The sandbox-level end of each `halted:` module: the same text as the e2e's EXPECTED, less the runner's prefix. */
const HALTS: Record<string, Halt> = {
  'bad-malloc': { step: 'start', kind: 'abi', message: /^malloc\(8\) returned an unusable pointer 2147483632/ },
  'bad-checkpoint-size': { step: 'checkpoint 1', recordingStep: 'start', kind: 'abi', message: /^agent_checkpoint returned 2147483392 bytes at 1024, outside its memory/ },
  'negative-checkpoint-size': { step: 'checkpoint 1', recordingStep: 'start', kind: 'abi', message: /^agent_checkpoint returned a negative size -8$/ },
  'bad-checkpoint-ptr': { step: 'checkpoint 1', recordingStep: 'start', kind: 'abi', message: /^agent_checkpoint returned 8 bytes at 4294967295, outside its memory/ },
  // In a shared worker, loading gets a 500 ms slice; a call past it is retried alone with the full 10 s, where the hour-long sleep is refused at once.
  'sleep-in-init': { step: 'start', kind: 'timeout', message: /^poll_oneoff asked to wait 3600 s, past the call's deadline/ },
  'sleep-in-tick': { step: 'tick 1', kind: 'timeout', message: /^poll_oneoff asked to wait 3600 s, past the call's deadline/ },
  'log-flood-forever': { step: 'tick 1', kind: 'timeout', message: /^agent did not finish within 100 ms; stopped$/ },
  'proc-exit-in-tick': { step: 'tick 1', kind: 'exit', message: /^agent called proc_exit\(3\)$/ },
  // In the shared worker the spin is a 'moved' at its 500 ms share (below); this is its end in the worker of its own it restarts in.
  // Recording, init's state copy is its first agent_checkpoint call, so the explicit checkpoint after start is the second.
  'spin-checkpoint': { step: 'checkpoint 2', recordingStep: 'checkpoint 1', kind: 'timeout', message: /^agent did not finish within 5000 ms; stopped$/ }
}

type Expectation = { readonly end: 'harmless' } | { readonly end: 'halted' | 'refused', readonly reason: string }

/** The `;; expect:` line of a corpus file (the first line), or null. */
function expectation(source: string): Expectation | null {
  const match = /^;; expect: (harmless|halted|refused)\b[:,]?\s*(.*)$/.exec(source.split('\n', 1)[0] ?? '')
  if (match === null) return null
  if (match[1] === 'harmless') return { end: 'harmless' }
  return { end: match[1] as 'halted' | 'refused', reason: match[2]!.trim() }
}

// The healthy neighbour: a u64 counter at 1024, +1 per tick, the corpus's own convention.
const NEIGHBOUR = agentWat({
  omit: ['agent_tick', 'agent_checkpoint', 'agent_checkpoint_ptr', 'agent_resume'],
  extra: `
  (func (export "agent_tick") (result i32) (i64.store (i32.const 1024) (i64.add (i64.load (i32.const 1024)) (i64.const 1))) (i32.const 0))
  (func (export "agent_checkpoint") (result i32) (i32.const 8))
  (func (export "agent_checkpoint_ptr") (result i32) (i32.const 1024))
  (func (export "agent_resume") (param i32 i32) (i64.store (i32.const 1024) (i64.load (local.get 0))))`
})
const PER_WORKER = 4

const started: AgentSandbox[] = []
afterEach(async () => {
  for (const box of started.splice(0)) await box.terminate()
  expect(workerPool.hosts).toBe(0)
  await workerPool.close()
})

async function prepare(name: string, source: string) {
  return prepareAgentModule(await wat(source), { path: `${name}.wasm`, manifest: MANIFESTS[name] ?? EMPTY_MANIFEST })
}

/**
 * How the hostile module is run. `recording`: as `@igor/runner` runs every live agent (SPEC §12
 * `observe: { mode: 'record' }`): init and every tick also copy the state out with agent_checkpoint, under the
 * checkpoint's deadline. Not recording: only the calls made explicitly (simulation, tools).
 */
const MODES = [
  { name: 'recording, as the runner runs a live agent', recording: true },
  { name: 'not recording', recording: false }
] as const

async function startHostile(name: string, source: string, options: { recording: boolean, agentsPerWorker: number, beside?: AgentSandbox, state?: Uint8Array | null }) {
  const prepared = await prepare(name, source)
  const logger = recordingLogger()
  const box = await AgentSandbox.start(
    { agentId: name, module: prepared.module, capabilities: [...prepared.capabilities], usesWasi: prepared.usesWasi, entry: prepared.entry, ...(options.recording ? { observe: { mode: 'record' as const } } : {}) },
    { budget: 1_000_000n, state: options.state ?? RESUME_FROM[name] ?? null, logger, agentsPerWorker: options.agentsPerWorker, ...(options.beside !== undefined ? { beside: options.beside } : {}) }
  )
  started.push(box)
  return { box, logger }
}

/** A healthy agent in a shared worker, one tick in. */
async function startNeighbour(): Promise<AgentSandbox> {
  const { box } = await startWatSandbox(NEIGHBOUR, { agentId: 'neighbour', agentsPerWorker: PER_WORKER })
  started.push(box)
  await box.tick(1000n)
  return box
}

/** After the hostile module: the neighbour was not evicted, still ticks, and its state is exactly its own ticks. */
async function neighbourIntact(neighbour: AgentSandbox, threadId: bigint): Promise<void> {
  expect(neighbour.alive).toBe(true)
  expect(neighbour.evicted).toBe(false)
  expect(neighbour.threadId).toBe(threadId) // the same thread: nothing was restarted
  await neighbour.tick(1000n)
  await neighbour.tick(1000n)
  expect(counterValue(await neighbour.checkpoint())).toBe(3n)
}

/** Runs `call`; a SandboxError becomes the halt at `step`, anything else fails the test. */
async function at<T>(step: Step, call: () => Promise<T>): Promise<{ ok: true, value: T } | { ok: false, step: Step, error: SandboxError }> {
  try {
    return { ok: true, value: await call() }
  } catch (error) {
    if (!(error instanceof SandboxError)) throw error
    return { ok: false, step, error }
  }
}

describe('the hostile corpus against the sandbox alone (SPEC §11, issue 18)', () => {
  it('the corpus is here and every file says how it must end', () => {
    expect(NAMES.length).toBeGreaterThanOrEqual(21)
    for (const name of NAMES) expect(expectation(readFileSync(`${CORPUS}${name}.wat`, 'utf8')), `${name}.wat has no ";; expect:" first line`).not.toBeNull()
    // Every sandbox-level halt describes a file that is there and says "halted".
    for (const name of Object.keys(HALTS)) expect(expectation(readFileSync(`${CORPUS}${name}.wat`, 'utf8'))?.end, name).toBe('halted')
  })

  for (const mode of MODES) {
    describe(mode.name, () => {
      for (const name of NAMES) {
        const source = readFileSync(`${CORPUS}${name}.wat`, 'utf8')
        const expected = expectation(source)
        const title = expected === null ? `${name}: has an expectation` : `${name}: ${expected.end}${'reason' in expected ? ` (${expected.reason.slice(0, 80)})` : ''}`
        it(title, async () => runCorpusFile(name, source, expected, mode.recording), name === 'spin-checkpoint' ? 40_000 : 10_000)
      }
    })
  }
})

async function runCorpusFile(name: string, source: string, expected: Expectation | null, recording: boolean): Promise<void> {
  if (expected === null) throw new Error(`${name}.wat has no ";; expect:" first line (harmless, halted: <reason> or refused: <reason>)`)

  if (expected.end === 'refused') {
    // Refused before anything runs: there is no call, so no neighbour to disturb. The runner adds where the
    // module came from ("(stored)"); the rest of its one line is this message.
    const error = await prepare(name, source).then(() => null, (e: unknown) => e)
    expect(error).toBeInstanceOf(ModuleError)
    expect((error as ModuleError).message).toBe(`${name}.wasm: ${expected.reason}`)
    if (REFUSAL_CODES[name] !== undefined) expect((error as ModuleError).code).toBe(REFUSAL_CODES[name])
    return
  }

  const halt = HALTS[name]
  const haltStep = halt === undefined ? undefined : recording ? halt.recordingStep ?? halt.step : halt.step
  if (expected.end === 'halted') {
    expect(halt, `${name} is "halted" in its ;; expect: line: add the call, kind and message of its halt to HALTS`).toBeDefined()
    // The runner's "start failed" is a failure while starting: loading, resuming, the first checkpoint.
    if (expected.reason.startsWith('start failed')) expect(['start', 'checkpoint 1'], `${name} says "start failed"`).toContain(haltStep)
    if (haltStep === 'start') expect(expected.reason, `${name} fails at start`).toMatch(/^start failed/)
  }

  const neighbour = await startNeighbour()
  const thread = neighbour.threadId
  // The runner's order: start (a resume when stored), the first checkpoint, ticks, a periodic checkpoint.
  const startedHostile = await at('start', async () => startHostile(name, source, { recording, agentsPerWorker: PER_WORKER, beside: neighbour }))
  let end: { ok: true } | { ok: false, step: Step, error: SandboxError } = startedHostile
  const box = startedHostile.ok ? startedHostile.value.box : null
  const logger = startedHostile.ok ? startedHostile.value.logger : null
  const states: bigint[] = []
  if (box !== null) {
    expect(box.threadId).toBe(thread) // it really shares the neighbour's thread
    const steps: Array<[Step, () => Promise<unknown>]> = [
      ['checkpoint 1', async () => states.push(counterValue(await box.checkpoint()))],
      ['tick 1', async () => box.tick(1000n)],
      ['tick 2', async () => box.tick(1000n)],
      ['tick 3', async () => box.tick(1000n)],
      ['checkpoint 2', async () => states.push(counterValue(await box.checkpoint()))]
    ]
    for (const [step, call] of steps) {
      end = await at(step, call)
      if (!end.ok) break
    }
  }

  if (expected.end === 'harmless') {
    if (!end.ok) throw new Error(`${name} is harmless but halted at ${end.step}: ${end.error.kind}: ${end.error.message}`)
    expect(box!.alive).toBe(true)
    expect(states[1]).toBe(states[0]! + 3n) // the tick counter at 1024 counted every tick
    await box!.tick(1000n)
    expect(counterValue(await box!.checkpoint())).toBe(states[1]! + 1n)
  } else if (name === 'spin-checkpoint') {
    // SPEC §11 fair share: in the shared worker the spinning checkpoint is interrupted at its 500 ms share
    // ("moved"), not failed; the runner restarts it from its last checkpoint in a worker of its own, where the
    // same call spins again and misses the full 5 s checkpoint deadline: the e2e's reason.
    expect(end.ok ? null : [end.step, end.error.kind], `${name} in the shared worker`).toEqual([haltStep, 'moved'])
    expect(box!.needsOwnThread).toBe(true)
    await neighbourIntact(neighbour, thread)
    const alone = await startHostile(name, source, { recording, agentsPerWorker: 1, state: new Uint8Array(8) })
    expect(alone.box.threadId).not.toBe(thread)
    end = await at('checkpoint 1', async () => alone.box.checkpoint())
    if (end.ok) end = await at('checkpoint 2', async () => alone.box.checkpoint())
    expect(end.ok ? null : [end.step, end.error.kind, end.error.message], `${name} alone`).toEqual([haltStep, halt!.kind, expect.stringMatching(halt!.message)])
    expect(alone.box.alive).toBe(false)
    if (recording) {
      // With recording on, a tick's own state copy is the call that spins (the 2nd agent_checkpoint, after
      // init's): it misses the checkpoint deadline it runs under, and the message and the charge name that
      // deadline, not the tick's 100 ms.
      const copy = await startHostile(name, source, { recording, agentsPerWorker: 1, state: new Uint8Array(8) })
      const failure = await sandboxFailure(copy.box.tick(1000n))
      expect([failure.kind, failure.message, failure.elapsedNs]).toEqual(['timeout', 'agent did not finish within 5000 ms; stopped', 5_000_000_000n])
    }
    return
  } else {
    expect(end.ok ? null : [end.step, end.error.kind, end.error.message], name).toEqual([haltStep, halt!.kind, expect.stringMatching(halt!.message)])
    expect(end.ok ? '' : end.error.message).not.toMatch(/\n/)
    if (box !== null) expect(box.alive).toBe(false)
  }

  // What the e2e checks in the node's log, seen here in the sandbox's logger.
  if (name === 'stdout-flood') {
    expect(logger!.lines.filter((l) => l.fields.src === 'stdout')).toHaveLength(4 * 64) // 4 ticks: 64 lines of 300 each reach the log
    expect(logger!.lines.filter((l) => l.fields.src === 'sandbox').map((l) => l.msg)).toEqual(Array(4).fill('agent output over the per-call cap (64 lines, 65536 bytes): dropped 236 lines, 4012 bytes'))
  }
  if (name === 'log-flood-forever') expect(logger!.lines.filter((l) => l.fields.src === 'agent').length).toBeLessThanOrEqual(64)
  if (name === 'wasi-close-stdio') expect(logger!.lines.filter((l) => l.fields.src === 'stdout' || l.fields.src === 'stderr')).toEqual([])
  if (name === 'slow-checkpoint') {
    // "but charged": each checkpoint spins 100 ms on the agent's own clock and the sandbox hands that time over
    // to be charged (a lower bound the module itself guarantees, not a bound on the test's wall clock). The
    // budget it comes off is the runner's.
    expect(box!.takeUncharged()).toBeGreaterThanOrEqual(100_000_000n)
  }
  // Not observable here: "start-up goes on", "shutdown does not wait for it" (sleep-in-*) and the "(stored)"
  // place of a refusal are the runner's; the sandbox's part is that the call ended and this neighbour lost nothing.

  await neighbourIntact(neighbour, thread)
}
