/**
 * The files of a new agent project. Every file is plain text so the starter
 * has no runtime dependencies; `{{name}}` and `{{sdk}}` are filled in.
 */

/** The SDK release line this starter was made for; `--sdk` replaces it with a local tarball or folder. */
export const SDK_RANGE = '^0.1.0'
export const ASSEMBLYSCRIPT_RANGE = '~0.28.20'
export const VITEST_RANGE = '~3.2.7'

export interface TemplateValues {
  /** npm package name of the project (from the folder name). */
  readonly name: string
  /** The `@igor/sdk` dependency specifier: a range, or `file:<path>`. */
  readonly sdk: string
}

export function packageJson(values: TemplateValues): string {
  return `${JSON.stringify({
    name: values.name,
    version: '0.1.0',
    private: true,
    description: 'An Igor agent written in AssemblyScript',
    type: 'module',
    scripts: {
      build: 'igor-build',
      test: 'vitest run'
    },
    devDependencies: {
      '@igor/sdk': values.sdk,
      assemblyscript: ASSEMBLYSCRIPT_RANGE,
      vitest: VITEST_RANGE
    }
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

const WASM = 'build/agent.wasm' // npm run build first (npm test does not build)

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

export const GITIGNORE = 'node_modules/\nbuild/\n'

/** Editor support for AssemblyScript in assembly/ (the compiler does not read it). */
export const ASSEMBLY_TSCONFIG = `${JSON.stringify({ extends: 'assemblyscript/std/assembly.json', include: ['./**/*.ts'] }, null, 2)}\n`

export function readme(values: TemplateValues): string {
  return `# ${values.name}

An [Igor](https://github.com/simonovic86/igor) agent in AssemblyScript, made with
\`create-igor-agent\`. Igor runs it on a node (\`igord\`), ticks it about once a
second, checkpoints its state, and survives kill -9 and migration without
repeating a completed effect.

\`\`\`sh
npm install
npm run build     # → build/agent.wasm + build/agent.manifest.json
npm test          # unit test with the SDK's test host (build first)
igord --run-agent build/agent.wasm
\`\`\`

| file | what it is |
|---|---|
| \`assembly/index.ts\` | the agent: a class with \`init\`, \`tick\`, \`save\`, \`load\`, registered with \`register(...)\` |
| \`agent.manifest.json\` | its capabilities: \`clock\`, \`log\`, \`http\` (only \`api.example.com\` is allowed) |
| \`test/agent.test.ts\` | vitest + \`@igor/sdk/test-host\`: fake clock, fake HTTP, restart from a checkpoint |

Change \`STATUS_URL\` and \`allowed_hosts\` together: a host that is not in the
allow-list answers -3 and nothing is sent (an empty list allows nothing).
Every request carries \`Idempotency-Key: <agentId>:<tick>:<n>\`, so a server
can drop the repeat of a request a crash made the node send again. For
effects that must happen exactly once (payments), use the SDK's \`EffectLog\`
(record, begin, confirm; reconcile \`Unresolved\` intents after a restart).

The build is \`igor-build\` from \`@igor/sdk\`: AssemblyScript with the
incremental GC runtime and a trapping \`abort\` (igord refuses the \`env.abort\`
import a plain \`asc\` build has), then a check of every import against the
manifest. See \`node_modules/@igor/sdk/README.md\` for the whole API.
`
}
