export const USAGE = `Usage:
  igord [start] [--run-agent <wasm>]... [flags]   run a node (and agents)
  igord status [--json] [--data-dir <dir>]         list the agents of a running node
  igord migrate <agentId> --to <multiaddr> [--data-dir <dir>]
  igord recover <agentId> [--data-dir <dir>]
  igord --inspect-checkpoint <file> [--inspect-wasm <file>] [--json]

Start flags:
  --run-agent <wasm>              load (or resume) and run this agent; repeatable
  --budget <units>                initial budget in currency units (default 1.0)
  --manifest <path>               capability manifest (default: <agent>.manifest.json)
  --agent-id <id>                 the agent's id (default: file name)
  --lease-duration <dur>          lease length (default 60s; 0 disables leases)
  --lease-grace <dur>             grace after expiry (default 10s)
  --lease-renewal-window <f>      renew when this fraction is left, in (0,1) (default 0.5)
  --price-per-second <microcents> this node's price (default 1000)
  --data-dir <dir>                checkpoints, node key, control socket (default ./igor-data)
  --listen <multiaddr>            libp2p listen address (default /ip4/0.0.0.0/tcp/4001)
  --capabilities <list>           capabilities this node offers (default clock,rand,log,wallet)
  --transfer-timeout <dur>        limit for one migration transfer (default 30s)
  --max-transfer-bytes <n>        largest migration transfer accepted (default 201326592)
  --log-format <json|pretty>      log format (default json)
`
