// The script-safe entry point (issue 22, SPEC §9, §14): `pnpm igord <args>`,
// `pnpm start` and `pnpm --filter igord start -- <args>` all run this file.
// - Builds igord and its dependencies only when a source changed (build-if-stale.mjs), turbo's output on stderr.
// - Runs dist/cli.js in the directory pnpm was started from (INIT_CWD; pnpm runs
//   scripts in the package's folder), so relative paths mean what the user typed.
// - stdout, stderr and the exit code are igord's own.
// - Ctrl-C: pnpm turns a SIGINT it receives itself into `[ELIFECYCLE] Command failed`
//   and exit 130, even when igord exits 0. So on a terminal this script reads
//   Ctrl-C as a key (raw mode: the terminal sends no SIGINT to pnpm) and hands
//   igord exactly one SIGINT; igord checkpoints, exits 0, and so does pnpm.
//   igord runs in its own process group, so a signal sent to the whole group
//   (kill -INT -<pgid>) also reaches it once, through this script.
//   While igord runs, typed keys are not echoed; Ctrl-\ asks for a SIGTERM stop,
//   Ctrl-Z does nothing. The terminal is restored when igord exits (if this
//   script is killed with -9 instead, `reset` restores it).
import { spawn, spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { buildIfStale } from './build-if-stale.mjs'

const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url))
const cwd = process.env.INIT_CWD ?? process.cwd()

const built = buildIfStale()
if (built !== 0) {
  process.stderr.write(`igord: the build failed (exit ${built}); see above\n`)
  process.exit(1)
}

/** True when this process is in the terminal's foreground group (`pnpm start &` is not: raw mode there would stop it with SIGTTOU). */
function inForeground() {
  const ps = spawnSync('ps', ['-o', 'tpgid=,pgid=', '-p', String(process.pid)], { encoding: 'utf8' })
  const [tpgid, pgid] = (ps.stdout ?? '').trim().split(/\s+/)
  return ps.status === 0 && tpgid !== undefined && tpgid === pgid
}

const stdin = process.stdin
const keys = stdin.isTTY === true && inForeground()
if (keys) stdin.setRawMode(true)
function restoreTerminal() {
  if (keys && stdin.isRaw) stdin.setRawMode(false)
}

const child = spawn(process.execPath, [cli, ...process.argv.slice(2)], { cwd, detached: true, stdio: [keys ? 'ignore' : 'inherit', 'inherit', 'inherit'] })

let sent = false
/** One signal to igord per stop request (igord stops cleanly on the first; a second would kill it). */
function stop(signal) {
  if (sent || child.exitCode !== null) return
  sent = true
  try { child.kill(signal) } catch { /* already gone */ }
}
process.on('SIGINT', () => stop('SIGINT'))
process.on('SIGTERM', () => stop('SIGTERM'))
process.on('SIGHUP', () => stop('SIGTERM'))
if (keys) {
  stdin.on('data', (data) => {
    if (data.includes(0x03)) { sent = false; stop('SIGINT') } // Ctrl-C (again: igord's own second-signal rule applies)
    else if (data.includes(0x1c)) stop('SIGTERM') // Ctrl-\
  })
}

child.on('error', (error) => {
  restoreTerminal()
  process.stderr.write(`igord: cannot start ${cli}: ${error.message}\n`)
  process.exit(1)
})
child.on('exit', (code, signal) => {
  restoreTerminal()
  if (keys) stdin.pause()
  if (signal !== null) {
    process.removeAllListeners(signal)
    process.kill(process.pid, signal)
    return
  }
  process.exit(code ?? 1)
})
