// SPEC §14 `igord start` / issue 21 item 5: what a starting node can begin before its modules have loaded.

/**
 * Whether this command line starts a node, judged from the words alone
 * (without loading `args.ts`, whose imports are most of the start path):
 * `igord`, `igord start …` or `igord --flag …`, not asking for `--help` or
 * `--version`. Only decides whether to warm a worker thread early; a wrong
 * guess costs one idle thread's start-up, nothing else (the command line is
 * parsed properly afterwards, as always).
 */
export function startsANode(argv: readonly string[]): boolean {
  const args = argv.filter((arg) => arg !== '--')
  const first = args[0]
  if (first !== undefined && first !== 'start' && !first.startsWith('-')) return false
  return !args.some((arg) => arg === '--help' || arg === '-h' || arg === '--version' || arg.startsWith('--help=') || arg.startsWith('--version='))
}

/**
 * Starts the sandbox's spare worker thread now. A node's first agent needs
 * one, and starting it (a new V8 isolate and Node's bootstrap in it, ~150 ms
 * of CPU on this 2-core machine) otherwise begins only when the runtime
 * opens, after igord's modules have loaded; begun here it boots on the other
 * core while they load. The same spare `NodeRuntime.open` would start
 * (`workerPool.prewarm()`, a no-op when one is ready), so nothing else changes.
 */
export async function prewarmWorker(): Promise<void> {
  const { workerPool } = await import('@igor/sandbox')
  workerPool.prewarm()
}
