// A small paywall for the x402buyer demo (SPEC §15 wallet_pay): items for a price, paid with an agent's
// wallet_pay receipt. Run: node scripts/paywall-server.mjs [--port 8402] [--payments payments.jsonl]
// [--price 100000] [--host 127.0.0.1]. Prints one line `paywall listening on <port>` when ready.
//
//   GET  /items/<n>         → 200 {"item":n,"data":"…"} once paid, else 402 {"amount":…,"recipient":"paywall-provider","memo":"item-<n>"}
//   GET  /items/<n>/status  → 200 {"item":n,"paid":true|false}
//   POST /items/<n>/pay     body: the receipt as hex → 200 {"item":n,"data":"…"}; 400 with a reason for a receipt that
//                           is not a payment of the price to paywall-provider with memo item-<n>, signed by its key.
//
// Every receipt it takes is appended to the payments file as one JSON line
// {"item":n,"amount":"…","agentKey":"…","receipt":"<hex>"}, once per receipt (the same receipt POSTed again
// is not a second payment). A second, different receipt for an item already paid is taken and recorded
// too: that is an agent paying twice, and the file shows it.
import { appendFileSync, readFileSync } from 'node:fs'
import { createPublicKey, verify } from 'node:crypto'
import { createServer } from 'node:http'

export const RECIPIENT = 'paywall-provider'

/** The receipt's fields (`amount i64 ‖ timestampNs i64 ‖ u32 len ‖ recipient ‖ u32 len ‖ memo ‖ key(32) ‖ signature(64)`), or a reason. */
export function readReceipt(bytes) {
  if (bytes.length < 120) return { error: `receipt of ${bytes.length} bytes is too short` }
  const amount = bytes.readBigInt64LE(0)
  const rLen = bytes.readUInt32LE(16)
  if (20 + rLen + 4 > bytes.length) return { error: 'recipient runs past the end' }
  const recipient = bytes.subarray(20, 20 + rLen).toString('utf8')
  const mLen = bytes.readUInt32LE(20 + rLen)
  const keyAt = 24 + rLen + mLen
  if (keyAt + 96 !== bytes.length) return { error: 'length does not match its fields' }
  const memo = bytes.subarray(24 + rLen, keyAt).toString('utf8')
  const key = bytes.subarray(keyAt, keyAt + 32)
  const signature = bytes.subarray(keyAt + 32)
  const spki = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), key])
  const ok = verify(null, bytes.subarray(0, keyAt + 32), createPublicKey({ key: spki, format: 'der', type: 'spki' }), signature)
  if (!ok) return { error: 'signature does not verify' }
  return { amount, recipient, memo, key: key.toString('hex') }
}

export function startPaywall({ port = 8402, host = '127.0.0.1', paymentsFile = null, price = 100000n } = {}) {
  const paid = new Map() // item → Set of receipt hex
  if (paymentsFile !== null) {
    try {
      for (const line of readFileSync(paymentsFile, 'utf8').split('\n').filter(Boolean)) {
        const entry = JSON.parse(line)
        if (!paid.has(entry.item)) paid.set(entry.item, new Set())
        paid.get(entry.item).add(entry.receipt)
      }
    } catch (error) {
      if (error.code !== 'ENOENT') throw error
    }
  }
  const data = (item) => JSON.stringify({ item, data: `premium item ${item}` })
  const server = createServer((req, res) => {
    const send = (status, body) => {
      res.writeHead(status, { 'content-type': 'application/json' })
      res.end(typeof body === 'string' ? body : JSON.stringify(body))
    }
    const match = /^\/items\/(\d{1,9})(\/status|\/pay)?$/.exec(req.url ?? '')
    if (match === null) return send(404, { error: 'no such path' })
    const item = Number(match[1])
    const what = match[2] ?? ''
    if (req.method === 'GET' && what === '') {
      return paid.has(item) ? send(200, data(item)) : send(402, { amount: Number(price), recipient: RECIPIENT, memo: `item-${item}` })
    }
    if (req.method === 'GET' && what === '/status') return send(200, { item, paid: paid.has(item) })
    if (req.method !== 'POST' || what !== '/pay') return send(405, { error: 'method not allowed' })
    const chunks = []
    let size = 0
    req.on('data', (chunk) => {
      size += chunk.length
      if (size <= 8192) chunks.push(chunk)
    })
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8').trim()
      if (size > 8192 || !/^([0-9a-f]{2})+$/.test(text)) return send(400, { error: 'body must be the receipt as hex' })
      const r = readReceipt(Buffer.from(text, 'hex'))
      if (r.error !== undefined) return send(400, { error: r.error })
      if (r.recipient !== RECIPIENT || r.memo !== `item-${item}` || r.amount < price) {
        return send(400, { error: `receipt pays ${r.amount} to ${r.recipient} for ${r.memo}, not ${price} to ${RECIPIENT} for item-${item}` })
      }
      if (!paid.has(item)) paid.set(item, new Set())
      const receipts = paid.get(item)
      if (!receipts.has(text)) {
        receipts.add(text)
        if (paymentsFile !== null) appendFileSync(paymentsFile, `${JSON.stringify({ item, amount: r.amount.toString(), agentKey: r.key, receipt: text })}\n`)
      }
      send(200, data(item))
    })
  })
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => resolve({ server, port: server.address().port, paid }))
  })
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const arg = (name, fallback) => {
    const at = process.argv.indexOf(`--${name}`)
    return at >= 0 ? process.argv[at + 1] : fallback
  }
  const { port } = await startPaywall({
    port: Number(arg('port', '8402')), host: arg('host', '127.0.0.1'), paymentsFile: arg('payments', null), price: BigInt(arg('price', '100000'))
  })
  console.log(`paywall listening on ${port}`)
}
