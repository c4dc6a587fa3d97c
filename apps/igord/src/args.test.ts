import { describe, expect, it } from 'vitest'
import { FLAGS, SUBCOMMANDS, UsageError, parseCommand, parseHostPort, versionLine } from './args.js'
import type { StartOptions } from './args.js'
import { renderSubcommandHelp, renderUsage } from './usage.js'

function usageError(argv: string[]): UsageError {
  try {
    parseCommand(argv)
  } catch (error) {
    if (error instanceof UsageError) return error
    throw error
  }
  throw new Error(`expected a usage error for ${JSON.stringify(argv)}`)
}

describe('igord command line (SPEC §9, §14)', () => {
  it('drops the literal -- that pnpm passes through', () => {
    const command = parseCommand(['--', '--run-agent', 'a.wasm', '--data-dir', 'd']) as StartOptions
    expect(command.kind).toBe('start')
    expect(command.agents).toEqual([{ wasmPath: 'a.wasm' }])
    expect(parseCommand(['--', 'status', '--json']).kind).toBe('status')
  })

  it('answers --help on every subcommand, and --version anywhere', () => {
    for (const name of Object.keys(SUBCOMMANDS)) {
      expect(parseCommand([name, '--help'])).toEqual({ kind: 'help', subcommand: name })
      expect(renderSubcommandHelp(name)).toContain(`igord ${name === 'start' ? '[start]' : name}`)
    }
    expect(parseCommand(['--help'])).toEqual({ kind: 'help', subcommand: null })
    expect(parseCommand(['help', 'migrate'])).toEqual({ kind: 'help', subcommand: 'migrate' })
    expect(parseCommand(['migrate', '--help', '--bogus'])).toEqual({ kind: 'help', subcommand: 'migrate' })
    expect(parseCommand(['--version'])).toEqual({ kind: 'version' })
    expect(versionLine()).toMatch(/^igord \d+\.\d+\.\d+ \(node v\d+\.\d+\.\d+\)$/)
  })

  it('names an unknown flag and the subcommand whose help to read', () => {
    const error = usageError(['status', '--bogus'])
    expect(error.message).toBe('unknown flag --bogus for igord status')
    expect(error.subcommand).toBe('status')
    expect(usageError(['--to', 'x']).message).toBe('unknown flag --to for igord (it belongs to: igord migrate, igord drain)')
    expect(usageError(['-x']).message).toBe('unknown flag -x for igord')
    expect(usageError(['migrate', 'a', '--to']).message).toBe('--to needs a value <multiaddr>')
    expect(usageError(['migrate', 'a', '--to', '--json']).message).toBe('--to needs a value <multiaddr>')
    expect(usageError(['status', '--json=yes']).message).toBe('--json takes no value')
    expect(usageError(['frobnicate']).message).toMatch(/^unknown subcommand "frobnicate"/)
  })

  it('reads a negative number as a value, so the value check answers', () => {
    expect(usageError(['--budget', '-1']).message).toBe('--budget: must not be negative, got -1')
  })

  it('takes --log-level, else IGOR_LOG_LEVEL, else info', () => {
    const before = process.env.IGOR_LOG_LEVEL
    try {
      delete process.env.IGOR_LOG_LEVEL
      expect((parseCommand([]) as StartOptions).logLevel).toBe('info')
      process.env.IGOR_LOG_LEVEL = 'debug'
      expect((parseCommand([]) as StartOptions).logLevel).toBe('debug')
      expect((parseCommand(['--log-level', 'warn']) as StartOptions).logLevel).toBe('warn')
      process.env.IGOR_LOG_LEVEL = 'loud'
      expect(usageError([]).message).toMatch(/^IGOR_LOG_LEVEL: must be one of trace, debug, info, warn, error, fatal/)
    } finally {
      if (before === undefined) delete process.env.IGOR_LOG_LEVEL
      else process.env.IGOR_LOG_LEVEL = before
    }
    expect(usageError(['status', '--log-level', 'verbose']).message).toMatch(/^--log-level: must be one of/)
  })

  it('gives client subcommands a --timeout, 5s by default', () => {
    expect(parseCommand(['status'])).toMatchObject({ kind: 'status', timeoutMs: 5000 })
    expect(parseCommand(['recover', 'a', '--timeout', '250ms'])).toMatchObject({ kind: 'recover', timeoutMs: 250 })
    expect(parseCommand(['migrate', 'a', '--to', '/ip4/1.2.3.4/tcp/1', '--timeout', '1m'])).toMatchObject({ kind: 'migrate', timeoutMs: 60_000 })
    expect(usageError(['status', '--timeout', '0']).message).toBe('--timeout must be more than 0')
  })

  it('parses --metrics-listen and --run-agents', () => {
    const command = parseCommand(['--metrics-listen', '127.0.0.1:9464', '--run-agents', 'agents/']) as StartOptions
    expect(command.metricsListen).toEqual({ host: '127.0.0.1', port: 9464 })
    expect(command.agentDirs).toEqual(['agents/'])
    expect((parseCommand([]) as StartOptions).metricsListen).toBeNull()
    expect(parseHostPort('[::1]:0')).toEqual({ host: '::1', port: 0 })
    expect(usageError(['--metrics-listen', '9464']).message).toMatch(/^--metrics-listen: must be <host>:<port>/)
    expect(usageError(['--run-agents', 'd', '--agent-id', 'x']).message).toMatch(/apply to a single --run-agent/)
  })

  it('lists every flag in the help text', () => {
    const help = renderUsage() + Object.keys(SUBCOMMANDS).map(renderSubcommandHelp).join('')
    for (const name of Object.keys(FLAGS)) expect(help).toContain(`--${name}`)
    expect(renderUsage()).toContain('Exit codes: 0 success, 1 failure')
  })

  it('--settlement-url (SPEC §15): an http(s) URL, checked before anything starts; absent = none', () => {
    expect((parseCommand(['--settlement-url', 'http://127.0.0.1:8402/settle/']) as StartOptions).settlementUrl).toBe('http://127.0.0.1:8402/settle')
    expect((parseCommand([]) as StartOptions).settlementUrl).toBeNull()
    for (const bad of ['ftp://x/', 'nope', 'http://u:p@x/', 'http://x/?q=1']) {
      const error = usageError(['--settlement-url', bad])
      expect(error.message).toMatch(/--settlement-url/)
      expect(error.message).not.toContain('\n')
    }
  })
})
