// A local stand-in for the APIs the demo agents call, so the demos run with
// no internet: node agents/scripts/demo-server.mjs [port]   (default 8787, 127.0.0.1 only)
//   GET  /prices            {"bitcoin":{"usd":…},"ethereum":{"usd":…}} (a random walk)
//   POST /payments          {"id":"pay-1","amount":100} → 202 (409 if the id exists);
//                           a repeated Idempotency-Key gets the first answer and pays nothing
//   GET  /payments/<id>     {"id":…,"status":"pending"|"settled"} (settled 3 s after the POST) or 404
import { createServer } from 'node:http'

const port = Number(process.argv[2] ?? 8787)
let btc = 8345678
let eth = 192345
const payments = new Map()
const answered = new Map()

function send(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json' })
  res.end(JSON.stringify(body))
}

const server = createServer((req, res) => {
  const chunks = []
  req.on('data', (c) => chunks.push(c))
  req.on('end', () => {
    const key = req.headers['idempotency-key'] ?? '-'
    console.log(`${new Date().toISOString()} ${req.method} ${req.url} Idempotency-Key: ${key}`)
    if (req.method === 'GET' && req.url === '/prices') {
      btc = Math.max(100, btc + Math.round((Math.random() - 0.5) * 20000))
      eth = Math.max(100, eth + Math.round((Math.random() - 0.5) * 2000))
      return send(res, 200, { bitcoin: { usd: btc / 100 }, ethereum: { usd: eth / 100 } })
    }
    if (req.method === 'POST' && req.url === '/payments') {
      if (answered.has(key)) return send(res, ...answered.get(key))
      let body
      try { body = JSON.parse(Buffer.concat(chunks).toString('utf8')) } catch { return send(res, 400, { error: 'bad json' }) }
      const reply = payments.has(body.id) ? [409, { error: 'exists' }] : [202, { id: body.id, status: 'pending' }]
      if (!payments.has(body.id)) payments.set(body.id, { amount: body.amount, at: Date.now() })
      answered.set(key, reply)
      return send(res, ...reply)
    }
    const match = /^\/payments\/([\w.-]+)$/.exec(req.url ?? '')
    if (req.method === 'GET' && match !== null) {
      const payment = payments.get(match[1])
      if (payment === undefined) return send(res, 404, { error: 'unknown payment' })
      return send(res, 200, { id: match[1], status: Date.now() - payment.at >= 3000 ? 'settled' : 'pending' })
    }
    send(res, 404, { error: 'not found' })
  })
})

server.listen(port, '127.0.0.1', () => console.log(`demo server on http://127.0.0.1:${port}`))
