import { parseArgs } from 'node:util'
import { DEFAULT_LEASE_CONFIG, type LeaseConfig, validateLeaseConfig } from '@igor/lease'
import { DEFAULT_AGENT_DISK_QUOTA_BYTES, DEFAULT_HISTORY_KEEP, DEFAULT_MIN_FREE_DISK_BYTES, parseHistoryKeep, parseSettlementUrl } from '@igor/runner'
import { CAPABILITIES, type CapabilityName, DEFAULT_AGENTS_PER_WORKER, DEFAULT_HTTP_RATE } from '@igor/sandbox'
import { type ReplaySettings, parseReplaySettings } from '@igor/replay'
import { parseSimulate } from './simulate.js'
import type { SimulateCommand } from './simulate.js'
import type { ExportCommand } from './export.js'
import { isPackageFile } from './package-sniff.js'
import type { ImportCommand } from './import.js'
import { type DrainCommand, parseDrain } from './drain-args.js'
import { type PriceCommand, parsePriceValue } from './price.js'
import { parseHistoryMinFree, parseSize, parseSizeAtLeast } from './size.js'
import {
  UsageError, didYouMean, FLAGS, COMMON_FLAGS, ParsedArgs, logLevelOf, timeoutOf, longTimeoutOf, dataDirOf, checkedId, parsePrice, parseByteCount, parseCount, parseAgentsPerWorker, parseBudget, parseCapabilities, egressRules, parseHostPort
} from './flags.js'
import type { FlagName, FlagSpec } from './flags.js'
import type { StartOptions } from './start-options.js'
// The public names this module always had (tests, index.ts) stay importable from here.
export { COMMON_FLAGS, DEFAULT_DATA_DIR, FLAGS, LOG_LEVELS, ParsedArgs, UsageError, parseBudget, parseCapabilities, parseHostPort, parseLogLevel, versionLine } from './flags.js'
export type { FlagName, FlagSpec, LogLevel } from './flags.js'
export type { StartOptions } from './start-options.js'

/*
 * The igord command line, as data (SPEC §9, §14).
 *
 * To add a flag: one entry in FLAGS, its name in the `flags` list of each
 * subcommand that takes it, and read it in that subcommand's `parse`.
 * To add a subcommand: one entry in SUBCOMMANDS (help text is generated from
 * it), a variant of `Command`, and a case in main.ts.
 */

export type Command =
  | StartOptions
  | { readonly kind: 'status', readonly dataDir: string, readonly json: boolean, readonly timeoutMs: number }
  | { readonly kind: 'migrate', readonly dataDir: string, readonly agentId: string, readonly to: string, readonly timeoutMs: number, readonly json: boolean }
  | { readonly kind: 'recover', readonly dataDir: string, readonly agentId: string, readonly timeoutMs: number, readonly ask: readonly string[], readonly json: boolean }
  | { readonly kind: 'retire', readonly dataDir: string, readonly agentId: string, readonly timeoutMs: number, readonly json: boolean }
  | { readonly kind: 'release', readonly dataDir: string, readonly agentId: string, readonly timeoutMs: number, readonly json: boolean }
  /** SPEC §7: `igord fences [--json]` and `igord unfence <id>` (issue 16). */
  | { readonly kind: 'fences', readonly dataDir: string, readonly json: boolean, readonly timeoutMs: number }
  /** SPEC §16: `igord peers [--json]`. */
  | { readonly kind: 'peers', readonly dataDir: string, readonly json: boolean, readonly timeoutMs: number }
  | { readonly kind: 'unfence', readonly dataDir: string, readonly agentId: string, readonly json: boolean, readonly timeoutMs: number }
  | { readonly kind: 'inspect', readonly checkpointPath: string, readonly wasmPath: string | null, readonly json: boolean }
  /** `subcommand` null: the top-level help. */
  | { readonly kind: 'help', readonly subcommand: string | null }
  | { readonly kind: 'version' }
  | SimulateCommand
  | ExportCommand
  | ImportCommand
  /** SPEC §16: `igord drain [--to auto|<multiaddr>] [--timeout <dur>] [--concurrency n]`. */
  | DrainCommand
  /** `igord verify <dir>…` (SPEC §12). */
  | { readonly kind: 'verify', readonly dirs: readonly string[], readonly json: boolean }
  /** SPEC §12 (ours, issue 21): `igord history export <id> <dir>`: the reference layout, for reference tools. */
  | { readonly kind: 'history-export', readonly dataDir: string, readonly agentId: string, readonly out: string, readonly json: boolean }
  /** SPEC §15: `igord price [--json]` and `igord price set <microcents>`. */
  | PriceCommand
  /** `igord receipts <agentId>` (SPEC §15 audit). */
  | { readonly kind: 'receipts', readonly dataDir: string, readonly agentId: string, readonly json: boolean }



export interface SubcommandSpec {
  /** One line for the top-level help. */
  readonly summary: string
  /** Positional arguments in help text, e.g. `<agentId>`. */
  readonly synopsis?: string
  /** Most positionals accepted. */
  readonly maxPositionals: number
  /** Flags besides COMMON_FLAGS. */
  readonly flags: readonly FlagName[]
  /** Extra help text (examples, notes). */
  readonly notes?: string
  /** A positional may be a negative number (`price set -5`): refused by `parse` with its own reason, not as an unknown flag. */
  readonly numericPositionals?: boolean
  readonly parse: (args: ParsedArgs) => Command
}

const START_FLAGS: readonly FlagName[] = [
  'run-agent', 'run-agents', 'budget', 'manifest', 'agent-id', 'lease-duration', 'lease-grace', 'lease-renewal-window',
  'price-per-second', 'data-dir', 'listen', 'capabilities', 'http-allow', 'http-deny', 'http-rate', 'transfer-timeout', 'max-transfer-bytes', 'max-agents', 'agent-disk-quota', 'history-keep', 'min-free-disk', 'history-min-free', 'agents-per-worker', 'peer-admissions-per-minute', 'metrics-listen', 'receipt-span', 'receipts-write-every', 'settlement-url', 'scan-interval',
  'log-format', 'inspect-checkpoint', 'inspect-wasm', 'json', 'recovery', 'peer', 'mdns', 'replay-mode', 'verify-interval', 'replay-on-divergence'
]

/** `igord run` / `igord resume`: `start`'s flags for one agent, without the multi-agent and inspect ones. */
const RUN_FLAGS: readonly FlagName[] = START_FLAGS.filter((flag) => !['run-agent', 'run-agents', 'inspect-checkpoint', 'inspect-wasm', 'json'].includes(flag))

/** `igord run <wasm>`: `start --run-agent <wasm>` (SPEC §12, the reference's newest CLI). */
function parseRun(args: ParsedArgs, wasmPath: string | null): StartOptions {
  const wasm = wasmPath ?? args.positionals[0]
  if (wasm === undefined) throw args.usage('run needs the agent: igord run <wasm> [flags]')
  const options = parseStart(args) as StartOptions
  const manifest = args.string('manifest')
  const agentId = args.string('agent-id')
  return {
    ...options,
    agents: [{ wasmPath: wasm, ...(manifest !== undefined ? { manifestPath: manifest } : {}), ...(agentId !== undefined ? { agentId: checkedId(args, agentId) } : {}) }]
  }
}

/** `igord resume <checkpoint> --wasm <wasm>` (also `--checkpoint <file>`, the reference's form). */
function parseResume(args: ParsedArgs): StartOptions | ImportCommand {
  const positional = args.positionals[0]
  const flag = args.string('checkpoint')
  if (positional !== undefined && flag !== undefined) throw args.usage('give the checkpoint once: as the argument or with --checkpoint')
  const checkpointPath = positional ?? flag
  if (checkpointPath === undefined) throw args.usage('resume needs a checkpoint: igord resume <checkpoint> --wasm <wasm>')
  // SPEC §12: an export package carries its binary and identity; it is imported like a migration.
  if (isPackageFile(checkpointPath)) {
    // `igord import <file>`: the running node of --data-dir is asked, else one starts with the agent.
    return { kind: 'import', file: checkpointPath, json: false, timeoutMs: longTimeoutOf(args), start: { ...(parseStart(args) as StartOptions), importPackage: checkpointPath } }
  }
  const wasm = args.string('wasm')
  if (wasm === undefined) throw args.usage('resume needs --wasm <wasm> (the binary the checkpoint was taken from)')
  const identityPath = args.string('identity')
  return { ...parseRun(args, wasm), resume: { checkpointPath, ...(identityPath !== undefined ? { identityPath } : {}), ...(args.boolean('force') ? { force: true } : {}) } }
}

/** Every subcommand. `start` is also what a command line without a subcommand means. */
export const SUBCOMMANDS: Record<string, SubcommandSpec> = {
  start: {
    summary: 'run a node (and agents); the default',
    synopsis: '[--run-agent <wasm>]...',
    maxPositionals: 0,
    flags: START_FLAGS,
    notes: 'Durations: 250ms, 10s, 1m, 1h and combinations such as 1m30s.',
    parse: parseStart
  },
  status: {
    summary: 'list the agents of a running node',
    maxPositionals: 0,
    flags: ['json', 'data-dir', 'timeout'],
    parse: (args) => ({ kind: 'status', dataDir: dataDirOf(args), json: args.boolean('json'), timeoutMs: timeoutOf(args) })
  },
  migrate: {
    summary: 'ask the running node to hand an agent to another node',
    synopsis: '<agentId> --to <multiaddr>|auto',
    maxPositionals: 1,
    flags: ['to', 'data-dir', 'timeout', 'json'],
    notes: '--timeout bounds each wait for the node to answer, not the whole transfer.\n' +
      '--to auto (SPEC §16): the node scans its known peers\' prices and tries the cheapest that fits the agent\'s manifest,\n' +
      'up to 3 attempts each, falling back to the next; exit 0 once placed, 1 otherwise (the summary says why).',
    parse: (args) => {
      const agentId = args.positionals[0]
      if (agentId === undefined) throw args.usage('migrate needs an agent id: igord migrate <agentId> --to <multiaddr>')
      const to = args.string('to')
      if (to === undefined) throw args.usage('migrate needs --to <multiaddr> (the target node\'s address, e.g. /ip4/10.0.0.2/tcp/4001/p2p/12D3Koo…)')
      return { kind: 'migrate', dataDir: dataDirOf(args), agentId: checkedId(args, agentId), to, timeoutMs: timeoutOf(args), json: args.boolean('json') }
    }
  },
  drain: {
    summary: 'empty the running node: refuse arrivals, move every agent elsewhere a few at a time, then stop it (SPEC §16)',
    maxPositionals: 0,
    flags: ['to', 'timeout', 'concurrency', 'data-dir', 'json'],
    notes: '--to auto (default): each agent goes to the cheapest known peer that fits its manifest, with fallback; --to <multiaddr>: all to that node.\n' +
      '--timeout (default 10m) bounds the whole drain: no hand-off starts after it. Progress lines go to stderr.\n' +
      'Exit 0 once every agent moved and the node stopped; 1 when some stayed (listed one per line with the reason: checkpointed,\n' +
      'still owned here, restartable) — the node stops then too. The drain goes on if this command is interrupted.',
    parse: parseDrain
  },
  // The reference's newest CLI (SPEC §12), beside ours.
  run: {
    summary: 'run one agent (same as start --run-agent <wasm>)',
    synopsis: '<wasm>',
    maxPositionals: 1,
    flags: RUN_FLAGS,
    parse: (args) => parseRun(args, null)
  },
  resume: {
    summary: 'resume an agent from a copied checkpoint (hash, signature and identity checked first)',
    synopsis: '<checkpoint> --wasm <wasm>',
    maxPositionals: 1,
    flags: [...RUN_FLAGS, 'wasm', 'checkpoint', 'identity', 'force'],
    notes: 'A signed (v0x04) checkpoint needs the agent\'s identity: --identity <file>, or the one in the data directory.\n' +
      'A raw checkpoint may belong to a live agent: refused without --force (export it on its node instead); with --force the\n' +
      'known peers (--peer, peers.json) are asked first and the agent starts at a new epoch (M+1,0). An export package\n' +
      '(igord export) needs no --wasm: it is imported like igord import.',
    parse: parseResume
  },
  export: {
    summary: 'hand an agent off to a file: the running node retires it with a complete package (SPEC §12)',
    synopsis: '<agentId> --out <file> [--with-history]',
    maxPositionals: 1,
    flags: ['out', 'with-history', 'data-dir', 'timeout', 'json'],
    notes: 'Move the file, then igord import <file> on the other node. --with-history: the file carries the agent\'s retained history, restored on import. --timeout defaults to 60s.',
    parse: (args) => {
      const agentId = args.positionals[0]
      if (agentId === undefined) throw args.usage('export needs an agent id: igord export <agentId> --out <file>')
      const out = args.string('out')
      if (out === undefined) throw args.usage('export needs --out <file> (where to write the package)')
      return { kind: 'export', dataDir: dataDirOf(args), agentId: checkedId(args, agentId), out, json: args.boolean('json'), timeoutMs: longTimeoutOf(args), ...(args.boolean('with-history') ? { withHistory: true } : {}) }
    }
  },
  import: {
    summary: 'admit an exported agent like a migration: on the running node, or start one with it (SPEC §12)',
    synopsis: '<file>',
    maxPositionals: 1,
    flags: [...RUN_FLAGS, 'timeout', 'json'],
    notes: 'With a node running on --data-dir it is asked (--timeout, default 60s); otherwise the node starts with the agent,\n' +
      'taking the start flags.',
    parse: (args) => {
      const file = args.positionals[0]
      if (file === undefined) throw args.usage('import needs the package: igord import <file>')
      return { kind: 'import', file, json: args.boolean('json'), timeoutMs: longTimeoutOf(args), start: { ...(parseStart(args.without('json')) as StartOptions), importPackage: file } }
    }
  },
  verify: {
    summary: 'check that checkpoint histories form one signed, unbroken chain (exit 0 valid, 1 invalid)',
    synopsis: '<history-dir>...',
    maxPositionals: Number.MAX_SAFE_INTEGER,
    flags: ['json'],
    notes: 'Give every node\'s <data-dir>/checkpoints/history/<agentId>; for one file name the higher epoch wins.',
    parse: (args) => {
      if (args.positionals.length === 0) throw args.usage('verify needs a history directory: igord verify <history-dir>...')
      return { kind: 'verify', dirs: [...args.positionals], json: args.boolean('json') }
    }
  },
  history: {
    summary: 'write an agent\'s retained history in the reference layout, <tick %010d>.ckpt files: history export <id> <dir>',
    synopsis: 'export <agentId> <dir>',
    maxPositionals: 3,
    flags: ['data-dir', 'json'],
    notes: 'Reads <data-dir>/checkpoints/history/<agentId> (segments and .ckpt files; a later record of a tick wins) and writes one\n' +
      'file per tick into <dir> (created; existing .ckpt files of the same name are replaced), with pruned.json when the\n' +
      'history was pruned. Works with the node running or not. igord verify <dir> checks the result.',
    parse: (args) => {
      const [verb, agentId, out] = args.positionals
      if (verb !== 'export') throw args.usage(verb === undefined ? 'history needs an action: igord history export <agentId> <dir>' : `unknown history action ${JSON.stringify(verb)}: igord history export <agentId> <dir>`)
      if (agentId === undefined || out === undefined) throw args.usage('history export needs an agent id and a directory: igord history export <agentId> <dir>')
      return { kind: 'history-export', dataDir: dataDirOf(args), agentId: checkedId(args, agentId), out, json: args.boolean('json') }
    }
  },
  receipts: {
    summary: 'audit an agent\'s receipts in the data dir: signatures, ticks, cost per node, conservation (exit 0 valid, 1 invalid)',
    synopsis: '<agentId>',
    maxPositionals: 1,
    flags: ['data-dir', 'json'],
    notes: 'Reads <data-dir>/checkpoints/<agentId>.receipts, .payments and .checkpoint; works with the node running or not.',
    parse: (args) => {
      const agentId = args.positionals[0]
      if (agentId === undefined) throw args.usage('receipts needs an agent id: igord receipts <agentId> [--data-dir d] [--json]')
      return { kind: 'receipts', dataDir: dataDirOf(args), agentId: checkedId(args, agentId), json: args.boolean('json') }
    }
  },
  inspect: {
    summary: 'print a checkpoint report (same as igor-inspect)',
    synopsis: '<checkpoint>',
    maxPositionals: 1,
    flags: ['wasm', 'json'],
    parse: (args) => {
      const checkpointPath = args.positionals[0]
      if (checkpointPath === undefined) throw args.usage('inspect needs a checkpoint file: igord inspect <checkpoint> [--wasm <wasm>] [--json]')
      return { kind: 'inspect', checkpointPath, wasmPath: args.string('wasm') ?? null, json: args.boolean('json') }
    }
  },
  simulate: {
    summary: 'run one agent locally: no network, no files written (SPEC §12)',
    synopsis: '<wasm>',
    maxPositionals: 1,
    flags: ['manifest', 'ticks', 'budget', 'verify', 'deterministic', 'seed'],
    notes: [
      'Nothing leaves this process: http_request answers -1 (transport error) and sends nothing; no data dir, key or socket is made.',
      '--manifest is the agent\'s capability manifest; --budget is the starting budget of this run (there is no checkpoint to resume).',
      'Ends with one summary line; exit 1 when a tick, a replay or the final checkpoint round trip failed.'
    ].join('\n'),
    parse: parseSimulate
  },
  recover: {
    summary: 'the explicit recovery action for an agent (SPEC §3)',
    synopsis: '<agentId> [--ask <multiaddr>]...',
    maxPositionals: 1,
    flags: ['data-dir', 'timeout', 'ask', 'json'],
    notes: 'With --ask: asks those peers what they hold for the agent (and fences it there) first; retires the copy here if one holds it at a higher epoch, recovers only if all fenced, else changes nothing (exit 1). --timeout defaults to 60s then.',
    parse: (args) => {
      const agentId = args.positionals[0]
      if (agentId === undefined) throw args.usage('recover needs an agent id: igord recover <agentId>')
      const ask = args.strings('ask')
      const timeoutMs = ask.length > 0 && args.string('timeout') === undefined ? 60_000 : timeoutOf(args)
      return { kind: 'recover', dataDir: dataDirOf(args), agentId: checkedId(args, agentId), timeoutMs, ask, json: args.boolean('json') }
    }
  },
  retire: {
    summary: 'drop a stale copy of an agent (RECOVERY_REQUIRED or stuck in a hand-off); refused for the live owner',
    synopsis: '<agentId>',
    maxPositionals: 1,
    flags: ['data-dir', 'timeout', 'json'],
    parse: (args) => {
      const agentId = args.positionals[0]
      if (agentId === undefined) throw args.usage('retire needs an agent id: igord retire <agentId>')
      return { kind: 'retire', dataDir: dataDirOf(args), agentId: checkedId(args, agentId), timeoutMs: timeoutOf(args), json: args.boolean('json') }
    }
  },
  release: {
    summary: 'lift the quarantine of an agent that kept killing the node (SPEC §11)',
    synopsis: '<agentId>',
    maxPositionals: 1,
    flags: ['data-dir', 'timeout', 'json'],
    notes: 'A stored agent is resumed at once; find out why the node died first (see the README).',
    parse: (args) => {
      const agentId = args.positionals[0]
      if (agentId === undefined) throw args.usage('release needs an agent id: igord release <agentId>')
      return { kind: 'release', dataDir: dataDirOf(args), agentId: checkedId(args, agentId), timeoutMs: timeoutOf(args), json: args.boolean('json') }
    }
  },
  price: {
    summary: 'print the running node\'s price per second, or change it: price set <microcents> (SPEC §15)',
    synopsis: '[set <microcents>]',
    maxPositionals: 2,
    numericPositionals: true,
    flags: ['data-dir', 'timeout', 'json'],
    notes: 'price set is durable in the data dir and charged from each agent\'s next tick; a later start keeps it unless\n' +
      '--price-per-second is given on that start. With no node running, price shows the data dir\'s durable price and price set\n' +
      'is refused. A price is a whole number of microcents from 0 to 9223372036854775807.',
    parse: (args) => {
      const [verb, value] = args.positionals
      const common = { dataDir: dataDirOf(args), json: args.boolean('json'), timeoutMs: timeoutOf(args) }
      if (verb === undefined) return { kind: 'price', ...common }
      if (verb !== 'set') throw args.usage(`unknown price action ${JSON.stringify(verb)}: igord price, or igord price set <microcents>`)
      if (value === undefined) throw args.usage('price set needs the price: igord price set <microcents>')
      try {
        return { kind: 'price-set', pricePerSecond: parsePriceValue(value), ...common }
      } catch (error) {
        throw args.usage(`price set: ${(error as Error).message}`)
      }
    }
  },
  peers: {
    summary: 'list the peers this node knows: addresses, price, capabilities, free slots, last seen, failures (SPEC §16)',
    maxPositionals: 0,
    flags: ['data-dir', 'timeout', 'json'],
    notes: 'Asks the running node; with none running, reads the data directory\'s peers.json. Prices are micro-units per second, exact in --json (decimal strings).',
    parse: (args) => ({ kind: 'peers', dataDir: dataDirOf(args), json: args.boolean('json'), timeoutMs: timeoutOf(args) })
  },
  fences: {
    summary: 'list the authority fences this node keeps for peers (SPEC §7)',
    maxPositionals: 0,
    flags: ['data-dir', 'timeout', 'json'],
    notes: 'Asks the running node; with none running, reads the data directory. A fence refuses packages of an agent at or below its epoch.',
    parse: (args) => ({ kind: 'fences', dataDir: dataDirOf(args), json: args.boolean('json'), timeoutMs: timeoutOf(args) })
  },
  unfence: {
    summary: 'lift every authority fence of an agent on purpose (SPEC §7)',
    synopsis: '<agentId>',
    maxPositionals: 1,
    flags: ['data-dir', 'timeout', 'json'],
    notes: 'Only when the package the fence guards against can no longer arrive (see packages/migration/README.md). Works on the running node, or on the data directory when none runs.',
    parse: (args) => {
      const agentId = args.positionals[0]
      if (agentId === undefined) throw args.usage('unfence needs an agent id: igord unfence <agentId>')
      return { kind: 'unfence', dataDir: dataDirOf(args), agentId: checkedId(args, agentId), json: args.boolean('json'), timeoutMs: timeoutOf(args) }
    }
  }
}


/**
 * Parses and validates the whole command line before anything starts (SPEC §10).
 * A bare `--` is dropped wherever it appears: `pnpm --filter igord start -- <args>`
 * passes it through literally (SPEC §14), and igord has no positional that
 * could start with a dash.
 */
export function parseCommand(argv: readonly string[]): Command {
  const args = argv.filter((arg) => arg !== '--')
  const first = args[0]
  let name = 'start'
  let rest = args
  if (first !== undefined && !first.startsWith('-')) {
    if (first === 'help') return { kind: 'help', subcommand: args[1] !== undefined && args[1] in SUBCOMMANDS ? args[1] : null }
    if (!(first in SUBCOMMANDS)) {
      const hint = didYouMean(first, [...Object.keys(SUBCOMMANDS), 'help'], (c) => `igord ${c}`)
      throw new UsageError(`unknown subcommand ${JSON.stringify(first)}${hint === '' ? ` (subcommands: ${Object.keys(SUBCOMMANDS).join(', ')})` : hint}`)
    }
    name = first
    rest = args.slice(1)
  }
  const spec = SUBCOMMANDS[name] as SubcommandSpec
  const explicit = name !== 'start' || first === 'start'
  if (spec.numericPositionals === true) {
    // `igord price set -5`: the value's own refusal, not "unknown flag -5".
    const value = rest[rest.indexOf('set') + 1]
    if (rest.includes('set') && value !== undefined && /^-[0-9.]/.test(value)) {
      try {
        parsePriceValue(value)
      } catch (error) {
        throw new UsageError(`${name} set: ${(error as Error).message}`, name)
      }
    }
  }
  const parsed = tokenize(explicit ? name : null, name, spec, rest)
  if (parsed.boolean('help')) return { kind: 'help', subcommand: explicit ? name : null }
  if (parsed.boolean('version')) return { kind: 'version' }
  // IGOR_LOG_LEVEL is checked for every subcommand (issue 22: a client ignored what the daemon refused).
  logLevelOf(parsed)
  if (parsed.positionals.length > spec.maxPositionals) {
    throw parsed.usage(`unexpected argument ${JSON.stringify(parsed.positionals[spec.maxPositionals])}`)
  }
  return spec.parse(parsed)
}

/**
 * node:util parseArgs in non-strict mode (to see every token), with our own
 * one-line answers: the flag's name, and which subcommand's help to read.
 */
function tokenize(helpFor: string | null, name: string, spec: SubcommandSpec, args: string[]): ParsedArgs {
  const allowed = [...COMMON_FLAGS, ...spec.flags]
  const options: Record<string, { type: 'string' | 'boolean', multiple?: boolean, short?: string }> = {}
  for (const flag of allowed) {
    const { type, multiple, short } = FLAGS[flag] as FlagSpec
    options[flag] = { type, ...(multiple === true ? { multiple } : {}), ...(short !== undefined ? { short } : {}) }
  }
  const where = name === 'start' ? 'igord' : `igord ${name}`
  // SPEC §14: a Go-style single-dash long flag (`-checkpoint x`) would read as a cluster of short flags
  // (-c -h …, printing help); it is refused with the spelling igord takes.
  for (const arg of args) {
    const single = /^-([a-zA-Z][a-zA-Z0-9-]+)(=.*)?$/.exec(arg)
    if (single === null) continue
    const word = single[1] as string
    const spelled = (allowed as readonly string[]).includes(word) ? `--${word}` : null
    const hint = spelled !== null ? `; igord spells it ${spelled}` : didYouMean(word, allowed, (c) => `--${c}`)
    throw new UsageError(`single-dash flag ${arg.split('=')[0]} for ${where}: long flags take two dashes${hint}`, helpFor)
  }
  const { values, positionals, tokens } = parseArgs({ args, options, strict: false, allowPositionals: true, tokens: true })
  // --help and --version answer whatever else is on the line.
  const answersAnyway = tokens.some((token) => token.kind === 'option' && (token.name === 'help' || token.name === 'version'))
  for (const token of answersAnyway ? [] : tokens) {
    if (token.kind !== 'option') continue
    const shown = token.rawName
    const known = (allowed as readonly string[]).includes(token.name)
    if (!known) {
      const elsewhere = token.name in FLAGS ? Object.keys(SUBCOMMANDS).filter((s) => (SUBCOMMANDS[s] as SubcommandSpec).flags.includes(token.name as FlagName)) : []
      const hint = elsewhere.length > 0
        ? ` (it belongs to: ${elsewhere.map((s) => `igord ${s}`).join(', ')})`
        : didYouMean(token.name, allowed, (c) => `--${c}`)
      throw new UsageError(`unknown flag ${shown} for ${where}${hint}`, helpFor)
    }
    const flagSpec = FLAGS[token.name as FlagName] as FlagSpec
    if (flagSpec.type === 'boolean' && token.inlineValue === true) {
      throw new UsageError(`${shown} takes no value`, helpFor)
    }
    if (flagSpec.type === 'string') {
      // A following flag is not a value (`--to --json`), but a negative number is (`--budget -1` gets the real answer).
      const value = token.value
      const missing = value === undefined || (token.inlineValue !== true && value.startsWith('-') && !/^-\d/.test(value))
      if (missing) throw new UsageError(`${shown} needs a value ${flagSpec.value ?? ''}`.trimEnd(), helpFor)
    }
  }
  return new ParsedArgs(helpFor, values, positionals)
}

function parseStart(args: ParsedArgs): Command {
  const checkpointPath = args.string('inspect-checkpoint')
  if (checkpointPath !== undefined) {
    return { kind: 'inspect', checkpointPath, wasmPath: args.string('inspect-wasm') ?? null, json: args.boolean('json') }
  }
  if (args.string('inspect-wasm') !== undefined) throw args.usage('--inspect-wasm goes with --inspect-checkpoint <file>')
  if (args.boolean('json')) throw args.usage('--json goes with --inspect-checkpoint <file> (or igord status --json)')
  const runAgents = args.strings('run-agent')
  const manifest = args.string('manifest')
  const agentIdFlag = args.string('agent-id')
  const several = runAgents.length > 1 || args.strings('run-agents').length > 0
  if (several && (manifest !== undefined || agentIdFlag !== undefined)) {
    throw args.usage('--manifest and --agent-id apply to a single --run-agent; with several agents use sidecar manifests and file names')
  }
  const agents = runAgents.map((wasmPath) => ({
    wasmPath,
    ...(manifest !== undefined ? { manifestPath: manifest } : {}),
    ...(agentIdFlag !== undefined ? { agentId: checkedId(args, agentIdFlag) } : {})
  }))
  const durationMs = args.duration('lease-duration', DEFAULT_LEASE_CONFIG.durationMs)
  const gracePeriodMs = args.duration('lease-grace', DEFAULT_LEASE_CONFIG.gracePeriodMs)
  const renewalWindow = args.read('lease-renewal-window', DEFAULT_LEASE_CONFIG.renewalWindow, (text) => {
    if (!/^\d*\.?\d+$/.test(text.trim())) throw new RangeError(`must be a number strictly between 0 and 1, got ${JSON.stringify(text)}`)
    return Number(text)
  })
  let lease: LeaseConfig | null = null
  if (durationMs !== 0) {
    lease = { durationMs, renewalWindow, gracePeriodMs }
    try {
      validateLeaseConfig(lease)
    } catch (error) {
      throw args.usage(`lease: ${(error as Error).message}`)
    }
  } else if (!(renewalWindow > 0 && renewalWindow < 1)) {
    // Leases are off, but the other lease flags must still be sane (SPEC §10: refuse before anything starts).
    throw args.usage(`--lease-renewal-window must be strictly between 0 and 1, got ${renewalWindow}`)
  }
  const logFormat = args.string('log-format') ?? 'json'
  if (logFormat !== 'json' && logFormat !== 'pretty') throw args.usage(`--log-format must be json or pretty, got ${JSON.stringify(logFormat)}`)
  return {
    kind: 'start',
    agents,
    agentDirs: args.strings('run-agents'),
    budget: args.read('budget', 1_000_000n, parseBudget),
    lease,
    pricePerSecond: args.read('price-per-second', 1000n, parsePrice),
    // SPEC §15: only a price given on this start replaces the durable one (`igord price set`).
    ...(args.string('price-per-second') !== undefined ? { pricePerSecondExplicit: true } : {}),
    dataDir: dataDirOf(args),
    listen: args.string('listen') ?? '/ip4/127.0.0.1/tcp/4001',
    ...capabilitiesOf(args),
    ...egressRules(args),
    httpRate: args.read('http-rate', DEFAULT_HTTP_RATE, parseCount),
    transferTimeoutMs: args.duration('transfer-timeout', 30_000),
    receiptSpanMs: args.duration('receipt-span', 3_600_000),
    receiptsWriteEveryMs: args.duration('receipts-write-every', 60_000),
    settlementUrl: args.read('settlement-url', null, parseSettlementUrlFlag),
    scanIntervalMs: args.duration('scan-interval', 60_000),
    maxTransferBytes: args.read('max-transfer-bytes', 192 * 1024 * 1024, parseByteCount),
    maxAgents: args.read('max-agents', null, parseCount),
    agentDiskQuota: args.read('agent-disk-quota', DEFAULT_AGENT_DISK_QUOTA_BYTES, parseSizeAtLeast(1024 * 1024)),
    historyKeep: args.read('history-keep', DEFAULT_HISTORY_KEEP, (text) => {
      try {
        return parseHistoryKeep(text)
      } catch (error) {
        // The runner's reason starts with the flag's name; `read` adds it again.
        throw new RangeError((error as Error).message.replace(/^--history-keep \S*: /, ''))
      }
    }),
    minFreeDisk: args.read('min-free-disk', DEFAULT_MIN_FREE_DISK_BYTES, parseSize),
    historyMinFree: args.read('history-min-free', { kind: 'auto' } as const, parseHistoryMinFree),
    agentsPerWorker: args.read('agents-per-worker', DEFAULT_AGENTS_PER_WORKER, parseAgentsPerWorker),
    peerAdmissionsPerMinute: args.read('peer-admissions-per-minute', 30, parseCount),
    logFormat,
    logLevel: logLevelOf(args),
    metricsListen: args.read('metrics-listen', null, parseHostPort),
    recovery: args.read('recovery', 'assisted' as const, (text) => {
      if (text !== 'manual' && text !== 'assisted') throw new RangeError(`must be manual or assisted, got ${JSON.stringify(text)}`)
      return text
    }),
    peers: args.strings('peer'),
    mdns: args.boolean('mdns'),
    replay: replayOf(args)
  }
}

function capabilitiesOf(args: ParsedArgs): { capabilities: CapabilityName[], arrivalCapabilities: CapabilityName[] } {
  const { capabilities, arrivals } = args.read('capabilities', parseCapabilities(CAPABILITIES.join(',')), parseCapabilities)
  return { capabilities, arrivalCapabilities: arrivals }
}

/** SPEC §12: validated before anything starts; a typo never silently turns verification off. */
function replayOf(args: ParsedArgs): ReplaySettings {
  try {
    return parseReplaySettings({ replayMode: args.string('replay-mode'), verifyInterval: args.string('verify-interval'), replayOnDivergence: args.string('replay-on-divergence') })
  } catch (error) {
    throw args.usage((error as Error).message)
  }
}

/** SPEC §15 `--settlement-url`: checked before anything starts (the runner's rules). */
function parseSettlementUrlFlag(text: string): string {
  try {
    return parseSettlementUrl(text).href
  } catch (error) {
    throw new RangeError((error as Error).message.replace(/^--settlement-url "[^"]*": /, ''))
  }
}
