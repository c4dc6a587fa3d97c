// pricewatcher: GETs BTC and ETH prices as JSON from an allow-listed host on
// its first tick and every 10th tick, and keeps latest/high/low in cents.
// Capabilities: clock, log, http (allowed_hosts: 127.0.0.1, localhost).
//
// The URL is http://127.0.0.1:<PRICE_PORT>/prices, PRICE_PORT a compile-time
// constant (default 8787, the demo server agents/scripts/demo-server.mjs;
// rebuild with `--use PRICE_PORT=<n>` for another port). The body looks like
// {"bitcoin":{"usd":83456.78},"ethereum":{"usd":1923.45}}.
//
// State (80 bytes, the reference layout): tickCount u64, birthNano i64,
// lastNano i64, btcLatest/High/Low u64, ethLatest/High/Low u64 (cents),
// observations u32, errors u32.
import { Agent, Decoder, Encoder, clockNow, httpGet, log, register } from "@igor/sdk";
export * from "@igor/sdk/exports";

// `--use PRICE_PORT=<n>` at build time overrides the port.
const PORT: i32 = isDefined(PRICE_PORT) ? PRICE_PORT : 8787;
// `--use FETCH_EVERY=<n>` changes the interval (tests use a short one).
const FETCH_INTERVAL: u64 = isDefined(FETCH_EVERY) ? <u64>FETCH_EVERY : 10;

function cents(v: u64): string {
  const frac = v % 100;
  return "$" + (v / 100).toString() + "." + (frac < 10 ? "0" : "") + frac.toString();
}

/** The "usd" price of `coin` in cents, or 0. Plain string scanning, like the reference. */
function extractPrice(body: string, coin: string): u64 {
  const key = '"' + coin + '":{"usd":';
  const at = body.indexOf(key);
  if (at < 0) return 0;
  let i = at + key.length;
  while (i < body.length && body.charCodeAt(i) == 0x20) i++;
  let whole: u64 = 0;
  let frac: u64 = 0;
  let fracDigits = 0;
  let inFrac = false;
  for (; i < body.length; i++) {
    const c = body.charCodeAt(i);
    if (c >= 0x30 && c <= 0x39) {
      if (inFrac) {
        if (fracDigits < 2) {
          frac = frac * 10 + <u64>(c - 0x30);
          fracDigits++;
        }
      } else {
        whole = whole * 10 + <u64>(c - 0x30);
      }
    } else if (c == 0x2e && !inFrac) {
      inFrac = true;
    } else {
      break;
    }
  }
  while (fracDigits < 2) {
    frac *= 10;
    fracDigits++;
  }
  return whole * 100 + frac;
}

class PriceWatcher extends Agent {
  tickCount: u64 = 0;
  birthNano: i64 = 0;
  lastNano: i64 = 0;
  btcLatest: u64 = 0;
  btcHigh: u64 = 0;
  btcLow: u64 = 0;
  ethLatest: u64 = 0;
  ethHigh: u64 = 0;
  ethLow: u64 = 0;
  observations: u32 = 0;
  errors: u32 = 0;

  tick(): bool {
    this.tickCount++;
    const now = clockNow();
    if (this.birthNano == 0) this.birthNano = now;
    this.lastNano = now;
    const age = (this.lastNano - this.birthNano) / 1_000_000_000;
    const prefix = "[pricewatcher] tick=" + this.tickCount.toString();
    if (this.tickCount == 1 || this.tickCount % FETCH_INTERVAL == 0) {
      this.fetch(prefix, age);
    } else if (this.tickCount % 5 == 0) {
      log(prefix + " age=" + age.toString() + "s obs=" + this.observations.toString() +
        " | BTC=" + cents(this.btcLatest) + " | ETH=" + cents(this.ethLatest));
    }
    return false;
  }

  fetch(prefix: string, age: i64): void {
    const r = httpGet("http://127.0.0.1:" + PORT.toString() + "/prices");
    if (!r.completed) {
      this.errors++;
      log(prefix + " ERROR: http failed: code " + r.error.toString() + " (errors=" + this.errors.toString() + ")");
      return;
    }
    if (!r.ok) {
      this.errors++;
      log(prefix + " ERROR: http status " + r.status.toString() + " (errors=" + this.errors.toString() + ")");
      return;
    }
    const body = r.text();
    const btc = extractPrice(body, "bitcoin");
    const eth = extractPrice(body, "ethereum");
    if (btc == 0 && eth == 0) {
      this.errors++;
      log(prefix + " ERROR: could not parse prices (errors=" + this.errors.toString() + ")");
      return;
    }
    this.observations++;
    if (btc > 0) {
      this.btcLatest = btc;
      if (this.btcHigh == 0 || btc > this.btcHigh) this.btcHigh = btc;
      if (this.btcLow == 0 || btc < this.btcLow) this.btcLow = btc;
    }
    if (eth > 0) {
      this.ethLatest = eth;
      if (this.ethHigh == 0 || eth > this.ethHigh) this.ethHigh = eth;
      if (this.ethLow == 0 || eth < this.ethLow) this.ethLow = eth;
    }
    log(prefix + " age=" + age.toString() + "s obs=" + this.observations.toString() +
      " FETCH | BTC=" + cents(this.btcLatest) + " (high=" + cents(this.btcHigh) + " low=" + cents(this.btcLow) + ")" +
      " | ETH=" + cents(this.ethLatest) + " (high=" + cents(this.ethHigh) + " low=" + cents(this.ethLow) + ")");
  }

  save(e: Encoder): void {
    e.uint64(this.tickCount).int64(this.birthNano).int64(this.lastNano)
      .uint64(this.btcLatest).uint64(this.btcHigh).uint64(this.btcLow)
      .uint64(this.ethLatest).uint64(this.ethHigh).uint64(this.ethLow)
      .uint32(this.observations).uint32(this.errors);
  }

  load(d: Decoder): void {
    this.tickCount = d.uint64();
    this.birthNano = d.int64();
    this.lastNano = d.int64();
    this.btcLatest = d.uint64();
    this.btcHigh = d.uint64();
    this.btcLow = d.uint64();
    this.ethLatest = d.uint64();
    this.ethHigh = d.uint64();
    this.ethLow = d.uint64();
    this.observations = d.uint32();
    this.errors = d.uint32();
  }
}

register(new PriceWatcher());
