/**
 * The files of a new agent project. Every file is plain text so the starter
 * has no runtime dependencies; `{{name}}` and `{{sdk}}` are filled in.
 */

/** The release line this starter was made for (`@igor/sdk` and `igord`); `--sdk`/`--tarballs` replace it with local files. */
export const SDK_RANGE = '^0.1.0'
export const IGORD_RANGE = '^0.1.0'
export const ASSEMBLYSCRIPT_RANGE = '~0.28.20'
export const VITEST_RANGE = '~3.2.7'

export interface TemplateValues {
  /** npm package name of the project (from the folder name). */
  readonly name: string
  /** The `@igor/sdk` dependency specifier: a range, or `file:<relative path>`. */
  readonly sdk: string
  /** The `igord` dependency specifier: a range, or `file:<relative path>`. */
  readonly igord: string
  /** npm `overrides`: every Igor package → its local tarball, so igord's own `^x.y.z` dependencies resolve there (absent = registry). */
  readonly overrides?: Readonly<Record<string, string>>
}

/** `npm start`: igord runs the built agent, pretty logs, data in ./igor-data (igord's default data dir). */
export const START_SCRIPT = 'igord --run-agent build/agent.wasm --log-format pretty'

export function packageJson(values: TemplateValues): string {
  return `${JSON.stringify({
    name: values.name,
    version: '0.1.0',
    private: true,
    description: 'An Igor agent written in AssemblyScript',
    type: 'module',
    scripts: {
      build: 'igor-build',
      pretest: 'npm run build',
      test: 'vitest run',
      start: START_SCRIPT
    },
    devDependencies: {
      '@igor/sdk': values.sdk,
      assemblyscript: ASSEMBLYSCRIPT_RANGE,
      igord: values.igord,
      vitest: VITEST_RANGE
    },
    ...(values.overrides !== undefined ? { overrides: values.overrides } : {})
  }, null, 2)}\n`
}

export const AGENT = `// An Igor agent (see node_modules/@igor/sdk/README.md).
// Every tick it counts; every 10th tick it asks an HTTP API for its status and
// remembers the answer. Its state survives restarts and migrations; igord
// checkpoints it with save() and restores it with load().
import { Agent, Decoder, Encoder, clockNow, httpGet, log, register } from "@igor/sdk";
export * from "@igor/sdk/exports";

const STATUS_URL = "https://api.example.com/status";
const EVERY: u64 = 10;

class Watcher extends Agent {
  ticks: u64 = 0;
  checks: u32 = 0;
  lastStatus: i32 = 0;
  lastCheckNs: i64 = 0;

  // First start only. No clock/log/http here: only ticks are replayed.
  init(): void {}

  tick(): bool {
    this.ticks++;
    if (this.ticks % EVERY == 1) {
      const r = httpGet(STATUS_URL);
      this.checks++;
      this.lastCheckNs = clockNow();
      // r.status is any HTTP status (404 included); r.error is negative when
      // the request did not complete: -1 network, -3 host not allowed,
      // -4 timeout, -5 too large, -6 this node is not the agent's owner.
      this.lastStatus = r.completed ? r.status : r.error;
      log("check " + this.checks.toString() + " at tick " + this.ticks.toString() + ": " +
        (r.completed ? "HTTP " + r.status.toString() + " " + r.text() : "failed with " + r.error.toString()));
    }
    return false; // true = more work pending, tick again soon
  }

  save(e: Encoder): void {
    e.uint64(this.ticks).uint32(this.checks).int32(this.lastStatus).int64(this.lastCheckNs);
  }

  load(d: Decoder): void {
    this.ticks = d.uint64();
    this.checks = d.uint32();
    this.lastStatus = d.int32();
    this.lastCheckNs = d.int64();
  }
}

register(new Watcher());
`

export const MANIFEST = `${JSON.stringify({
  capabilities: {
    clock: { version: 1 },
    log: { version: 1 },
    http: { version: 1, options: { allowed_hosts: ['api.example.com'], timeout_ms: 5000, max_response_bytes: 65536 } }
  },
  resource_limits: { max_memory_bytes: 4194304 },
  migration_policy: { enabled: true, max_price_per_second: 100000 }
}, null, 2)}\n`

export const TEST = `// Unit test with the SDK's test host: the agent runs in-process with a fake
// clock and a fake HTTP server; nothing reaches the network.
import { describe, expect, it } from 'vitest'
import { loadAgent } from '@igor/sdk/test-host'

const WASM = 'build/agent.wasm' // npm test builds it first (the pretest script)

describe('watcher', () => {
  it('checks the status on tick 1 and every 10th tick after, and keeps it across a restart', () => {
    const agent = loadAgent(WASM, {
      http: (req) => ({ status: 200, body: req.url.endsWith('/status') ? '{"ok":true}' : '' })
    })
    agent.init()
    expect(agent.tick().logs).toEqual(['check 1 at tick 1: HTTP 200 {"ok":true}'])
    agent.ticks(10)
    expect(agent.requests.map((r) => r.idempotencyKey)).toEqual(['test-agent:1:0', 'test-agent:11:0'])

    const again = agent.restart() // a fresh instance resumed from a checkpoint, as after kill -9
    again.http = () => -4 // the API times out now
    again.ticks(10)
    expect(again.logs.at(-1)).toBe('check 3 at tick 21: failed with -4')
  })

  it('sends nothing when the node is not the owner', () => {
    const agent = loadAgent(WASM, { http: () => { throw new Error('must not be called') } })
    agent.init()
    agent.owner = false
    expect(agent.tick().logs).toEqual(['check 1 at tick 1: failed with -6'])
    expect(agent.requests).toHaveLength(0)
  })
})
`

export const GITIGNORE = 'node_modules/\nbuild/\nigor-data/\nnode-b/\n'

/** Editor support for AssemblyScript in assembly/ (the compiler does not read it). */
export const ASSEMBLY_TSCONFIG = `${JSON.stringify({ extends: 'assemblyscript/std/assembly.json', include: ['./**/*.ts'] }, null, 2)}\n`

export function readme(values: TemplateValues): string {
  const local = values.igord.startsWith('file:')
  return `# ${values.name}

An Igor agent in AssemblyScript, made with \`create-igor-agent\`. Igor runs it
on a node (\`igord\`), ticks it about once a second, checkpoints its state, and
keeps it alive across kill -9 and across moves to other nodes.

\`\`\`sh
npm install
npm test          # builds build/agent.wasm first (pretest), then runs the unit test on the SDK's test host
npm start         # igord runs it: pretty logs, data in ./igor-data; Ctrl-C stops it after a final checkpoint
\`\`\`

${local
    ? `This project installs Igor from local tarballs (\`file:\` paths relative to
this folder, made by \`pnpm run pack-all\` in a clone of Igor); keep the
clone where it is (or move both together), or make the project again.`
    : 'This project installs `@igor/sdk` and `igord` from the npm registry.'}
With pnpm, which does not run \`pretest\`, use \`pnpm build && pnpm test\`.

| file | what it is |
|---|---|
| \`assembly/index.ts\` | the agent: a class with \`init\`, \`tick\`, \`save\`, \`load\`, registered with \`register(...)\` |
| \`agent.manifest.json\` | what it may use: \`clock\`, \`log\`, \`http\` to \`api.example.com\`; every field is explained in \`MANIFEST.md\` |
| \`test/agent.test.ts\` | vitest + \`@igor/sdk/test-host\`: fake clock, fake HTTP, restart from a checkpoint |
| \`build/\` | \`npm run build\` (\`igor-build\`): \`agent.wasm\` and the \`agent.manifest.json\` igord reads beside it |
| \`igor-data/\` | \`npm start\`: igord's checkpoints, keys and control socket |

## Watch it survive

\`\`\`sh
npm start                                   # "agent tick …" lines; the agent's id is "agent" (the file name)
npx igord status                            # in a second terminal: epoch, tick count, lease
kill -9 $(pgrep -f 'igord --run-agent')     # crash the node hard
npm start                                   # "agent resumed from checkpoint": the count continues
\`\`\`

## Move it to a second node

\`\`\`sh
# terminal 2: a second node (its own data dir and port; http+arrivals lets an agent that uses http arrive)
npx igord --data-dir node-b --listen /ip4/127.0.0.1/tcp/4002 --capabilities clock,rand,log,wallet,http+arrivals --log-format pretty
# it prints: listening on /ip4/127.0.0.1/tcp/4002/p2p/12D3KooW…
# terminal 3: hand the agent over
npx igord migrate agent --to /ip4/127.0.0.1/tcp/4002/p2p/12D3KooW…
\`\`\`

The second node continues the tick count at the next epoch; the first keeps a
tombstone and never runs the agent again. \`npx igord verify igor-data/checkpoints/history/agent node-b/checkpoints/history/agent\`
checks the agent's whole signed history across both nodes. A node listens on
127.0.0.1 only unless you say otherwise (\`--listen /ip4/0.0.0.0/tcp/4001\`
opens it to the network on purpose).

## Effects: what is and is not guaranteed

- igord sends a request only while it holds the agent's lease; otherwise the
  call answers -6 and nothing is sent.
- Every request carries \`Idempotency-Key: <agentId>:<tick>:<n>\`, the same
  every time that tick runs.
- A crash (kill -9) after a request left but before the next checkpoint
  makes the node run that tick again on restart, and the request is sent
  **again, with the same key**: delivery is **at-least-once**. A receiver
  that drops a key it has already seen makes the effect happen once.
- For effects that must happen **exactly once** (a payment, an order), keep
  an \`EffectLog\` in the agent's state and talk to a receiver that dedupes:
  record the intent, let a checkpoint pass, \`begin\`, send, \`confirm\`.
  After a restart an intent that was in flight comes back \`Unresolved\`: ask
  the receiver whether it happened (by its key) and \`confirm\` or
  \`compensate\`; never just send it again.
- \`httpGet\` (and HEAD) is re-sent by the SDK with a larger buffer when the
  answer did not fit (-5); other methods never are.

Change \`STATUS_URL\` and \`allowed_hosts\` together: a host that is not in the
allow-list answers -3 and nothing is sent (an empty list allows nothing). The
rules are in \`MANIFEST.md\`.

The build is \`igor-build\` from \`@igor/sdk\`: AssemblyScript with the
incremental GC runtime and a trapping \`abort\`, then a check of every import
against the manifest. The whole API is in \`node_modules/@igor/sdk/README.md\`;
igord's flags are in \`npx igord --help\` and \`node_modules/igord/README.md\`.
`
}

/**
 * `MANIFEST.md`: the manifest is strict JSON (igord and igor-build read it
 * exactly, no comments), so the explanation of every field lives here.
 */
export const MANIFEST_DOC = `# agent.manifest.json, field by field

igord and \`igor-build\` read the manifest as strict JSON (integers exact, no
comments), so its explanations live in this file. \`npm run build\` copies it
to \`build/agent.manifest.json\`, which igord reads beside \`build/agent.wasm\`.

## capabilities

Declare exactly what the agent calls: \`igor-build\` refuses a module that
imports an undeclared capability, and igord refuses it at load. Every
capability is \`{ "version": 1 }\`, plus \`options\` for \`http\`.

| capability | the SDK call | notes |
|---|---|---|
| \`clock\` | \`clockNow(): i64\` (Unix ns) | recorded, so a replay sees the same time |
| \`log\` | \`log(message)\` | one line in igord's log, tagged with the agent |
| \`http\` | \`httpGet\`, \`httpPost\`, \`httpRequest\` | options below |
| \`rand\` (not declared here) | \`randBytes(out)\` | add \`"rand": { "version": 1 }\` to use it |
| \`wallet\` (not declared here) | \`walletBalance(): i64\` | the remaining budget, in microcents |
| \`pricing\` (not declared here) | \`nodePrice(): i64\` | this node's price per second, in microcents; it may change between ticks |
| \`x402\` (not declared here) | \`walletPay(amount, recipient, memo): Payment\` | pays a recipient listed in \`"options": {"allowed_recipients": [...]}\` from the budget; the receipt is signed with the agent's key |
| \`mobility\` (not declared here) | \`requestMove(maxPrice: i64): i32\` | asks the node to move the agent to a cheaper node after this tick: 0 noted, −1 migration disabled, −2 a move already pending |

### http options

- \`allowed_hosts\`: the hosts the agent may call. Each entry is a **host name
  or an IP address, without scheme or port** (\`"api.example.com"\`,
  \`"203.0.113.7"\`, \`"::1"\`), matched case-insensitively against the URL's
  host. An entry allows **both http:// and https://, on any port**. An empty or
  missing list allows nothing. Redirects are checked again. A host outside
  the list answers -3 and nothing is sent.
- The list is the agent's wish, not a grant: the node also applies its own
  egress policy, which by default **refuses loopback, private and link-local
  addresses** (127.0.0.0/8, 10/8, 172.16/12, 192.168/16, 169.254/16, ::1,
  fc00::/7, fe80::/10) and the node's own ports, checked on the address a name
  resolves to. To let an agent reach a service on this machine, start igord
  with \`--http-allow 127.0.0.1\` (or a CIDR / host name). Such a refusal also
  answers -3.
- \`timeout_ms\`: how long one request may take (default 10000, at most
  15000); a timeout answers -4.
- \`max_response_bytes\`: the largest answer accepted (default 1048576, at
  most 67108864); a larger one answers -5.

Other answers: -1 the request did not complete (network), -2 input too
long, -6 this node does not hold the agent's lease (nothing sent). Any HTTP
status, 404 or 500 included, is a completed call.

## resource_limits

- \`max_memory_bytes\`: the agent's memory cap (here 4 MiB). Growing past it
  traps the tick. Without it the node's own cap applies.

## migration_policy

- \`enabled\`: whether the agent may be handed to another node
  (\`igord migrate\`); \`false\` makes every node refuse it.
- \`max_price_per_second\`: the most the agent pays a node per second of
  running, in microcents (1 currency unit = 1 000 000); a node that asks more
  refuses the hand-off and the agent stays where it is. igord's default price
  is 1000.
`
