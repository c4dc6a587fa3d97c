import { constants } from 'node:fs'
import { access, mkdir } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { isIgorError } from '@igor/errors'
import { agentIdFor, HttpBudgetAdapter, NodeRuntime } from '@igor/runner'
import type { StartOptions } from './start-options.js'
import { ControlServer } from './control/server.js'
import { authorityRoute } from './control/authority-routes.js'
import { offlineRoute } from './control/offline-routes.js'
import { CONTROL_SOCKET, agentStatusJson, socketPathProblem } from './control/protocol.js'
import type { StatusJson } from './control/protocol.js'
import { createLogger } from './logging.js'
import type { NodeNetwork } from './network.js'
import { OperatorSurface } from './operator-routes.js'
import { loadConcurrency, startAgents } from './startup.js'
import { importForResume } from './resume.js'
import { addOwnAddress, nodeEgress } from './egress.js'
import { priceRoute } from './price.js'
import { receiptsRoute } from './receipts-route.js'
import { DrainDesk } from './control/drain-routes.js'
import { nodeReceiptSigner } from './node-signer.js'
import { type AutoPlacer, startAutoPlacer } from './auto-placer.js'
import { LateNetwork } from './late-network.js'
import { probeListen } from './listen-probe.js'
import { diskShortField, testStatfsProbe } from './history-disk.js'
import { FirstTick } from './first-tick.js'

/** An expected start-up failure: printed as one line, exit 1. */
export class StartupError extends Error {
  override readonly name = 'StartupError'
}

/**
 * `listening on <address>`: one address to copy (issue 22) — one other nodes can reach when there is one,
 * else this machine's — and the others after it.
 */
export function listeningLine(addresses: readonly string[]): string {
  const reachable = addresses.find((a) => !/^\/ip4\/127\.|^\/ip6\/::1\//.test(a)) ?? addresses[0]
  if (reachable === undefined) return 'listening on no address'
  const others = addresses.filter((a) => a !== reachable)
  return `listening on ${reachable}${others.length > 0 ? ` (also ${others.join(', ')})` : ''}`
}

async function readableFile(path: string): Promise<void> {
  try {
    await access(path, constants.R_OK)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    throw new StartupError(`${path}: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (error as Error).message}`)
  }
}

function errorBody(error: unknown): { error: { code: string, message: string } } {
  const code = (error as { code?: unknown }).code
  return { error: { code: typeof code === 'string' ? code : 'INTERNAL', message: error instanceof Error ? error.message : String(error) } }
}

const NOT_FOUND_CODES = new Set(['AGENT_NOT_FOUND'])

/**
 * `igord start`: wires the runtime, the network and the control socket, and
 * turns SIGINT/SIGTERM into a clean shutdown with final checkpoints (SPEC §5).
 * Resolves with the process exit code once the node has stopped.
 */
export async function runDaemon(options: StartOptions): Promise<number> {
  const log = createLogger(options.logFormat, 1, options.logLevel)
  log.debug({ cwd: process.cwd(), agents: options.agents.length, listen: options.listen, logLevel: options.logLevel }, 'options')
  const dataDir = resolve(options.dataDir)
  // Checked before anything is created or bound (issue 8, point 8).
  const tooLong = socketPathProblem(join(dataDir, CONTROL_SOCKET))
  if (tooLong !== null) throw new StartupError(tooLong)
  // Issue 22: an agent file that is not there is said before a data dir, key or socket is created.
  for (const agent of options.agents) await readableFile(agent.wasmPath)
  await mkdir(dataDir, { recursive: true, mode: 0o700 })

  let runtime: NodeRuntime | null = null
  let network: NodeNetwork | null = null
  const statusJson = async (): Promise<StatusJson> => ({
    node: {
      peerId: network?.peerId ?? null,
      addresses: network?.addresses() ?? [],
      // SPEC §15: the price every agent here pays from its next tick (null while the node starts).
      pricePerSecond: runtime?.pricePerSecond.toString() ?? null,
      // SPEC §7 "What a peer can and cannot do": who is refused at the door, and why.
      ...(runtime !== null && runtime.admissions.list().length > 0 ? { refusedAtDoor: runtime.admissions.list() } : {}),
      ...drainingField(drains), // SPEC §16 igord drain
      ...diskShortField(runtime?.historyDiskShortage ?? null) // SPEC §12 history disk guard
    },
    agents: runtime === null ? [] : (await runtime.status()).map(agentStatusJson)
  })

  let settlement: HttpBudgetAdapter | null = null // SPEC §15 --settlement-url
  const ops = new OperatorSurface({ runtime: () => runtime, network: () => network, settlement: () => settlement?.metrics() ?? null })
  // SPEC §16 `--to auto`: progress lines of placements under way (GET /placements/<agentId>).
  const placing = new Map<string, string[]>()
  let autoPlacer: AutoPlacer | null = null // SPEC §16 moving for price, request_move

  // SPEC §16 `igord drain`: once drained, the node stops as on SIGINT.
  const drains = new DrainDesk({ runtime: () => runtime, network: () => network, log, stop: () => { void stop(0).then(onStopped) } })
  // The control socket is bound first: it is also the data directory's lock.
  const control = await ControlServer.open(join(dataDir, CONTROL_SOCKET), async (method, path, body) => {
    try {
      if (method === 'GET' && path === '/status') return { status: 200, body: await statusJson() }
      const drainReply = await drains.route(method, path, body) // SPEC §16 POST /drain, GET /drain
      if (drainReply !== null) return drainReply
      const operatorReply = await ops.route(method, path) // /metrics, /healthz, /migrations/<id>
      if (operatorReply !== null) return operatorReply
      const price = await priceRoute(method, path, body, runtime) // SPEC §15 igord price [set]
      if (price !== null) {
        if (method === 'POST' && price.status === 200) autoPlacer?.priceChanged() // SPEC §16 moving for price
        return price
      }
      const receipts = await receiptsRoute(method, path, runtime) // issue 21: igord receipts on a running node
      if (receipts !== null) return receipts
      const authority = await authorityRoute(method, path, body, runtime, network)
      if (authority !== null) return authority
      const offline = await offlineRoute(method, path, body, { runtime, nodeId: network?.peerId ?? null, log, maxTransferBytes: options.maxTransferBytes })
      if (offline !== null) return offline // SPEC §12 igord export / import
      const match = /^\/agents\/([^/]+)\/(recover|migrate|release)$/.exec(path)
      if (method === 'POST' && match !== null && runtime !== null) {
        const agentId = decodeURIComponent(match[1] as string)
        if (match[2] === 'recover') return { status: 200, body: { agent: agentStatusJson(await runtime.recover(agentId)) } }
        if (match[2] === 'release') return { status: 200, body: { agent: agentStatusJson(await runtime.release(agentId)) } }
        if (network === null) return { status: 503, body: { error: { code: 'NO_NETWORK', message: 'the node has no network yet' } } }
        const to = (body as { to?: unknown } | null)?.to
        if (typeof to !== 'string') return { status: 400, body: { error: { code: 'BAD_REQUEST', message: 'migrate needs {"to": "<multiaddr>"}' } } }
        if (to !== 'auto') return { status: 200, body: await network.migrate(agentId, to) }
        if (placing.has(agentId)) return { status: 409, body: { error: { code: 'PLACEMENT_UNDER_WAY', message: `${agentId} is being placed already` } } }
        const lines: string[] = []
        placing.set(agentId, lines)
        try {
          return { status: 200, body: await network.place(agentId, (line) => { if (lines.length < 10_000) lines.push(line) }) }
        } finally {
          placing.delete(agentId)
        }
      }
      const placement = /^\/placements\/([^/]+)$/.exec(path)
      if (method === 'GET' && placement !== null) {
        const lines = placing.get(decodeURIComponent(placement[1] as string))
        return lines === undefined ? { status: 404, body: { error: { code: 'NO_PLACEMENT', message: 'no placement of this agent is under way' } } } : { status: 200, body: { lines } }
      }
      return { status: 404, body: { error: { code: 'NOT_FOUND', message: `no such control endpoint: ${method} ${path}` } } }
    } catch (error) {
      const code = (error as { code?: string }).code ?? ''
      return { status: NOT_FOUND_CODES.has(code) ? 404 : 409, body: errorBody(error) }
    }
  })

  // Issue 21 item 5: the network starts after the first ticks (see below); placements wait for it.
  const late = new LateNetwork()
  let stopping: Promise<number> | null = null
  const stop = async (exitCode: number): Promise<number> => {
    stopping ??= (async () => {
      log.info({}, 'shutting down: final checkpoints')
      autoPlacer?.stop()
      late.failed('the node is stopping')
      await late.stopIfStarted(network) // a network still starting is stopped once it has
      await network?.stop().catch((error: unknown) => log.warn({}, `network stop: ${(error as Error).message}`))
      await runtime?.shutdown()
      await settlement?.close() // what is not delivered stays in the outbox for the next start
      await ops.close()
      await control.close()
      log.info({}, 'stopped')
      return exitCode
    })()
    return stopping
  }

  // Signals are handled from the first moment: a Ctrl-C during start-up still
  // ends in a clean shutdown (final checkpoints of whatever was loaded).
  let signalled = false
  let onStopped: (code: number) => void = () => {}
  const stopped = new Promise<number>((resolveExit) => { onStopped = resolveExit })
  const onSignal = (signal: NodeJS.Signals): void => {
    log.info({ signal }, 'signal received')
    signalled = true
    void stop(0).then(onStopped)
  }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)

  try {
    const metricsAt = await ops.listen(options.metricsListen)
    if (metricsAt !== null) log.info({ address: metricsAt }, `metrics on http://${metricsAt}/metrics`)
    const egress = nodeEgress(options) // SPEC §13: the node's own endpoints are never an agent's to reach
    if (metricsAt !== null) addOwnAddress(egress, metricsAt)
    if (options.settlementUrl !== null) {
      settlement = await HttpBudgetAdapter.open({ url: options.settlementUrl, dataDir, log })
      log.info({ settlementUrl: options.settlementUrl }, 'settlement: sealed receipts go to the settlement server; budgets are asked there')
    }
    runtime = await NodeRuntime.open({
      dataDir,
      lease: options.lease,
      pricePerSecond: options.pricePerSecond,
      ...(options.pricePerSecondExplicit === true ? { pricePerSecondExplicit: true } : {}),
      capabilities: options.capabilities,
      arrivalCapabilities: options.arrivalCapabilities,
      egress,
      httpRatePerSecond: options.httpRate,
      ...(options.maxAgents !== null ? { maxAgents: options.maxAgents } : {}),
      agentDiskQuotaBytes: options.agentDiskQuota,
      historyKeep: options.historyKeep,
      minFreeDiskBytes: options.minFreeDisk,
      historyMinFree: options.historyMinFree,
      ...testStatfsProbe(),
      agentsPerWorker: options.agentsPerWorker,
      replay: options.replay,
      receiptSigner: await nodeReceiptSigner(dataDir),
      receiptSpanNs: BigInt(options.receiptSpanMs) * 1_000_000n,
      receiptsWriteEveryNs: BigInt(options.receiptsWriteEveryMs) * 1_000_000n,
      ...(settlement !== null ? { budgetAdapter: settlement } : {}),
      logger: log
    })
    log.info({
      dataDir,
      leaseDurationMs: options.lease?.durationMs ?? 0,
      leaseGraceMs: options.lease?.gracePeriodMs ?? 0,
      pricePerSecond: runtime.pricePerSecond.toString(),
      priceSource: runtime.price.source
    }, options.lease === null ? 'igord starting (leases disabled)' : 'igord starting')
    // SPEC §14: a --listen port in use fails before any agent ticks (bound once and released here;
    // libp2p binds it after the first ticks). Its port is the node's own from now on (SPEC §13).
    const listen = await probeListen(options.listen)
    if (listen.port !== null) addOwnAddress(egress, `/ip4/${listen.host ?? ''}/tcp/${listen.port}`)
    // SPEC §12 igord resume / import: validated (and refused without --force) before anything is written.
    const agentsToStart = await importForResume(runtime, options, log)
    // Issue 21 item 5: the agents this node owns tick from local state before libp2p starts (SPEC §5:
    // each only under its lease, as always; the network changes no authority). The network starts once
    // they are loaded (ticking): arrivals, hand-offs, price answers, peers and assisted recovery start with it. The AutoPlacer listens from before the first
    // tick, so no request_move is missed; its placements wait for the network (SPEC §16).
    autoPlacer = startAutoPlacer(runtime, late.forPlacer(), log, ops.metrics)
    const startNetworkOnce = (): Promise<NodeNetwork | Error> => {
      late.starting ??= (async () => {
        const { startNetwork } = await import('./network.js') // libp2p loads only now
        const started = await startNetwork({ runtime: runtime as NodeRuntime, dataDir, listen: listen.listen, listenShown: options.listen, transferTimeoutMs: options.transferTimeoutMs, maxTransferBytes: options.maxTransferBytes, peerAdmissionsPerMinute: options.peerAdmissionsPerMinute, logger: log, recovery: options.recovery, peers: options.peers, scanIntervalMs: options.scanIntervalMs, ...(options.mdns === true ? { mdns: true } : {}), onMigrated: ops.onMigrated })
        if (stopping !== null) return started // the shutdown stops it (late.stopIfStarted)
        // Handed over at once, while agents may still be loading ("listening on" still means "and every agent is loaded").
        network = started
        for (const address of started.addresses()) addOwnAddress(egress, address)
        late.up(started)
        log.info({ peerId: started.peerId, addresses: started.addresses() }, `network up on ${started.addresses().join(' ')}`)
        return started
      })().catch((error: unknown) => error instanceof Error ? error : new Error(String(error)))
      return late.starting
    }
    // SPEC §11: agents the last death was counted against load after all the others, one at a time,
    // each held until its first tick, so another death names them alone (runtime.suspects).
    const suspects = runtime.suspects
    const suspect = (agent: StartOptions['agents'][number]): boolean => {
      try {
        return suspects.has(agentIdFor(agent))
      } catch {
        return false // a bad id is refused by startAgent with its own message
      }
    }
    const firstTick = new FirstTick()
    await startAgents(runtime, agentsToStart.filter((agent) => !suspect(agent)), options.budget, log)
    const resumed = await runtime.resumeStoredAgents(loadConcurrency(), { skipSuspects: true })
    // Issue 21 item 5: prom-client and libp2p load only after a first tick has completed (or at once when
    // nothing ticks): their module evaluation on the main thread would otherwise sit before that tick.
    const ticking = runtime
    await firstTick.wait(() => ticking.agentIds().some((id) => ticking.host(id)?.ticking === true))
    // What was counted until now is folded in as the registry loads; a scrape before that waits for it (lazy-metrics.ts).
    void ops.metrics.load().catch((error: unknown) => log.warn({}, `metrics: ${(error as Error).message}`))
    // Not overlapped with the loads: libp2p's module evaluation on the main thread would stall the
    // loads' deadline timers on a busy machine (SPEC §11 fair share); after them it costs a loading
    // agent nothing.
    const started = await startNetworkOnce()
    if (started instanceof Error) {
      late.failed(started.message)
      throw started
    }
    if (signalled || stopping !== null) return await stopped // the shutdown stops the network once it has started (late.stopIfStarted)
    await startAgents(runtime, agentsToStart.filter(suspect), options.budget, log, 1)
    resumed.push(...await runtime.resumeStoredAgents(1))
    if (runtime.recoveryCandidates().length > 0) await (await import('./export.js')).settleInterruptedExports(runtime, log) // SPEC §12: an export cut by a crash
    for (const result of resumed) {
      if (result.error === undefined) log.info({ agentId: result.agentId }, 'stored agent resumed')
    }
    log.info({ peerId: started.peerId, addresses: started.addresses() }, listeningLine(started.addresses()))
    autoPlacer?.priceChanged() // SPEC §16 at start: every agent now loaded over its max price moves (or waits)
  } catch (error) {
    if (signalled) return stopped
    await stop(1)
    if (isIgorError(error) || error instanceof StartupError || isExpected(error)) {
      log.error({ code: (error as { code?: string }).code }, (error as Error).message)
      throw new StartupError((error as Error).message)
    }
    throw error
  }

  return stopped
}

function drainingField(drains: DrainDesk): { draining?: NonNullable<ReturnType<DrainDesk['status']>> } {
  const draining = drains.status()
  return draining === undefined ? {} : { draining }
}

function isExpected(error: unknown): boolean {
  const name = (error as { name?: string }).name
  return name === 'MigrationError' || name === 'AuthorityError' || name === 'ListenError' || name === 'MetricsListenError' || name === 'NetworkNotUpError'
}
