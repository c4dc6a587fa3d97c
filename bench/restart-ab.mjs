// Issue 21 item 5: restart to first tick, A/B of igord builds, interleaved with `node -e 0`.
// Usage: node bench/restart-ab.mjs [runs] <cli.js> [<cli.js> …]
// Per run and build: wall ms to the first "survivor tick" line, CPU ms of the igord process
// (all threads, /proc/<pid>/stat utime+stime, 10 ms resolution) when that line arrives, and
// when "igord starting" and "agent resumed from checkpoint" were logged. Medians printed.
import { readFile, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { agentPath } from '@igor/agents'
import { spawnIgord, spawnTracked, killAll } from './lib/igord-process.mjs'

const [runsArg, ...clis] = process.argv.slice(2)
const runs = Number(runsArg)
if (!Number.isSafeInteger(runs) || clis.length === 0) throw new Error('usage: restart-ab.mjs <runs> <cli.js>…')
const msg = (prefix) => (line) => typeof line.json?.msg === 'string' && line.json.msg.startsWith(prefix)
const ms = (ns) => Number(ns) / 1e6
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2 }
const cpuMs = async (pid) => { const f = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1].split(' '); return (Number(f[11]) + Number(f[12])) * 10 }
const sleep = (n) => new Promise((r) => setTimeout(r, n))

const dirs = []
try {
  const stats = new Map([['node -e 0', { wall: [] }], ...clis.map((c) => [c, { wall: [], cpu: [], starting: [], resumed: [] }])])
  const seeded = new Map()
  for (const cli of clis) {
    const dir = await mkdtemp(join(tmpdir(), 'igor-restart-ab-'))
    dirs.push(dir)
    const args = ['--data-dir', dir, '--listen', '/ip4/127.0.0.1/tcp/0', '--run-agent', agentPath('survivor')]
    const seed = spawnIgord(args, { cli })
    await seed.waitForLine(msg('survivor tick '), 'seed tick')
    await seed.waitForLine(msg('listening on '), 'seed listening')
    await sleep(250)
    await seed.stop()
    seeded.set(cli, args)
  }
  for (let i = 0; i < runs; i++) {
    const order = ['node -e 0', ...clis].sort(() => Math.random() - 0.5)
    for (const which of order) {
      const s = stats.get(which)
      if (which === 'node -e 0') {
        const bare = spawnTracked(process.execPath, ['-e', '0'])
        const exit = await bare.exited
        s.wall.push(ms(exit.at - bare.startedAt))
        continue
      }
      const node = spawnIgord(seeded.get(which), { cli: which })
      const tick = await node.waitForLine(msg('survivor tick '), 'first tick')
      s.cpu.push(await cpuMs(node.pid))
      s.wall.push(ms(tick.at - node.startedAt))
      await node.waitForLine(msg('listening on '), 'listening')
      await sleep(250)
      const starting = node.lines.find(msg('igord starting'))
      const resumed = node.lines.find(msg('agent resumed from checkpoint'))
      if (starting !== undefined) s.starting.push(ms(starting.at - node.startedAt))
      if (resumed !== undefined) s.resumed.push(ms(resumed.at - node.startedAt))
      const exit = await node.stop()
      if (exit.code !== 0) throw new Error(`${which}: exit ${exit.code} ${node.stderr}`)
    }
  }
  const bare = median(stats.get('node -e 0').wall)
  console.log(`node -e 0: wall ${bare.toFixed(0)} ms (min ${Math.min(...stats.get('node -e 0').wall).toFixed(0)})`)
  for (const cli of clis) {
    const s = stats.get(cli)
    console.log(`${cli}: first tick wall ${median(s.wall).toFixed(0)} ms (${(median(s.wall) / bare).toFixed(2)}×, min ${Math.min(...s.wall).toFixed(0)}), CPU ${median(s.cpu).toFixed(0)} ms, "igord starting" ${median(s.starting).toFixed(0)}, "agent resumed" ${median(s.resumed).toFixed(0)}`)
  }
} finally {
  await killAll()
  for (const dir of dirs) await rm(dir, { recursive: true, force: true })
}
